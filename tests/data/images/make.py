#!/usr/bin/env python3
"""
Regenerate the small PNG fixtures of tests/unit/test_image.c.

Standard library only (zlib, struct), so anyone can rerun it:

    python3 tests/data/images/make.py

scene.png        128x96 RGB: a sky-to-ground gradient with a saturated
                 red-orange disc in the right third (the salient region)
scene_bright.png scene.png with every channel +16 (clipped): a "slightly
                 brightened" near-duplicate for the dHash test
rgba.png         48x32 RGBA: left half opaque blue, right half fully
                 transparent red (must come out white after flattening)
rgba_on_white.png  rgba.png flattened onto white by hand: 48x32 RGB, left
                 half blue, right half white
grey16a.png      20x20 16-bit grey + alpha (must come out 8-bit RGB)
exif6.png        40x20 RGB with an eXIf chunk saying orientation 6
                 (rotate 90 clockwise); must come out 20x40
wide.png         16385x1 grey, one pixel wider than IMAGE_MAX_SIDE
dup-a.jpg        320x320 JPEG (Q90) of a preview placeholder; dup-b.jpg is
                 the same picture resized to 240, brightened by 12 and
                 re-encoded at Q70: a near-duplicate pair for loramake
                 check (tests/cli/t5100). Both were made once with the
                 vips CLI, not by this script (no JPEG in the stdlib):
                   vips thumbnail in.png a.png 320
                   vips copy a.png dup-a.jpg[Q=90,strip]
                   vips thumbnail a.png b.png 240
                   vips linear b.png b2.v 1 12 --uchar
                   vips copy b2.v dup-b.jpg[Q=70,strip]
dhash9x8.png     9x8 grey whose dHash is known: in row y, pixel x+1 is
                 10 darker than pixel x exactly when bit 7-x of
                 (y * 37 + 11) & 0xff is set (else 10 brighter), so the
                 hash is those 8 bytes, row 0 first
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + \
        struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(path, w, h, bitdepth, colortype, rows, extra=b""):
    """rows: list of h bytes objects, already packed per pixel."""
    raw = b"".join(b"\x00" + r for r in rows)
    data = b"\x89PNG\r\n\x1a\n"
    data += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bitdepth,
                                       colortype, 0, 0, 0))
    data += extra
    data += chunk(b"IDAT", zlib.compress(raw, 9))
    data += chunk(b"IEND", b"")
    with open(os.path.join(HERE, path), "wb") as f:
        f.write(data)


def scene_pixel(x, y, w, h):
    # sky (top) to ground (bottom) gradient
    t = y / (h - 1)
    r = int(90 + 60 * t)
    g = int(140 + 20 * t - 40 * (x / (w - 1)))
    b = int(220 - 150 * t)
    # a hill: darker green band
    if y > h * 0.6 + 8 * ((x / w) - 0.5) ** 2 * 10:
        r, g, b = 60 + x % 7, 120 + y % 5, 50
    # the subject: a saturated disc in the right third
    cx, cy, rad = w * 0.8, h * 0.45, h * 0.22
    if (x - cx) ** 2 + (y - cy) ** 2 < rad * rad:
        r, g, b = 235, 90 + int(30 * (y - cy) / rad), 40
    return r, g, b


def scene(path, delta):
    w, h = 128, 96
    rows = []
    for y in range(h):
        row = bytearray()
        for x in range(w):
            row += bytes(min(255, c + delta) for c in scene_pixel(x, y, w, h))
        rows.append(bytes(row))
    png(path, w, h, 8, 2, rows)


def rgba():
    w, h = 48, 32
    rows = []
    for y in range(h):
        row = bytearray()
        for x in range(w):
            row += bytes((20, 40, 200, 255) if x < w // 2 else (255, 0, 0, 0))
        rows.append(bytes(row))
    png("rgba.png", w, h, 8, 6, rows)
    rows = []
    for y in range(h):
        row = bytearray()
        for x in range(w):
            row += bytes((20, 40, 200) if x < w // 2 else (255, 255, 255))
        rows.append(bytes(row))
    png("rgba_on_white.png", w, h, 8, 2, rows)


def grey16a():
    w, h = 20, 20
    rows = []
    for y in range(h):
        row = bytearray()
        for x in range(w):
            row += struct.pack(">HH", x * 3000, 65535 if y < 10 else 32768)
        rows.append(bytes(row))
    png("grey16a.png", w, h, 16, 4, rows)


def exif6():
    w, h = 40, 20
    rows = []
    for y in range(h):
        row = bytearray()
        for x in range(w):
            row += bytes((200, 30, 30) if x < 10 else (30, 30, 200))
        rows.append(bytes(row))
    # big-endian TIFF: one IFD with one entry, Orientation (0x0112) SHORT 6
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8)
    tiff += struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0)
    tiff += struct.pack(">I", 0)
    png("exif6.png", w, h, 8, 2, rows, chunk(b"eXIf", tiff))


def wide():
    png("wide.png", 16385, 1, 8, 0, [bytes(16385)])


def dhash9x8():
    rows = []
    for y in range(8):
        byte = (y * 37 + 11) & 0xFF
        v = [128]
        for x in range(8):
            v.append(v[-1] - 10 if byte >> (7 - x) & 1 else v[-1] + 10)
        rows.append(bytes(v))
    png("dhash9x8.png", 9, 8, 8, 0, rows)


if __name__ == "__main__":
    scene("scene.png", 0)
    scene("scene_bright.png", 16)
    rgba()
    grey16a()
    exif6()
    wide()
    dhash9x8()
