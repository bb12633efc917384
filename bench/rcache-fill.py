#!/usr/bin/env python3
"""bench/rcache-fill.py: fill a team cache folder (nginx's root) for a
recipe without making its images, for bench/remote-cache.sh FILL=copy.

  rcache-fill.py LORAMAKE RECIPE_DIR CACHE_DIR SEED_OBJECTS_DIR

Every angle node of `loramake --engine preview plan --json RECIPE_DIR`
gets a record under CACHE_DIR/ac/ and one object under CACHE_DIR/cas/,
laid out as loramake's uploads lay them out (docs/remote-cache.md): the
object is one of the real PNGs in SEED_OBJECTS_DIR (a store's objects/,
made by a real build), made distinct by a tEXt chunk after its IHDR, so
every object has its own name and decodes as what it was (the pull's
checks cost what they cost on real images). The node's seed is the low
32 bits of its key (compiler/key.c), the xxh3-128 names come from
`xxhsum -H2`.
"""

import hashlib
import json
import os
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "tests", "fake"))
from bazel_remote_fake import encode_ac  # noqa: E402  (the record's encoding)


def with_text(png, n):
    """png with a tEXt chunk after IHDR (8-byte signature, 25-byte IHDR)."""
    body = b"tEXt" + b"loramake-bench\0" + str(n).encode()
    chunk = struct.pack(">I", len(body) - 4) + body + \
        struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    return png[:33] + chunk + png[33:]


def main(lm, recipe, cache, seeds_dir):
    plan = json.loads(subprocess.run(
        [lm, "--engine", "preview", "plan", "--json", recipe],
        check=True, capture_output=True).stdout)
    nodes = [j for j in plan["jobs"] if j["kind"] == "angle"]
    seeds = []
    for root, _, files in os.walk(seeds_dir):
        for f in sorted(files):
            with open(os.path.join(root, f), "rb") as fh:
                b = fh.read()
            if b.startswith(b"\x89PNG\r\n\x1a\n"):
                seeds.append(b)
    if not seeds:
        sys.exit("rcache-fill: no PNG objects in %s" % seeds_dir)
    os.makedirs(os.path.join(cache, "ac"), exist_ok=True)
    os.makedirs(os.path.join(cache, "cas"), exist_ok=True)
    tmp = os.path.join(cache, "fill.tmp")
    os.makedirs(tmp, exist_ok=True)
    paths = []
    for i, _ in enumerate(nodes):
        p = os.path.join(tmp, "%d.png" % i)
        with open(p, "wb") as fh:
            fh.write(with_text(seeds[i % len(seeds)], i))
        paths.append(p)
    names = {}
    for line in subprocess.run(["xxhsum", "-H2"] + paths, check=True,
                               capture_output=True, text=True).stdout.splitlines():
        h, p = line.split(None, 1)
        names[p.strip()] = h
    for i, node in enumerate(nodes):
        with open(paths[i], "rb") as fh:
            data = fh.read()
        sha = hashlib.sha256(data).hexdigest()
        os.rename(paths[i], os.path.join(cache, "cas", sha))
        key = node["key"]
        text = "loramake action v1\n%s\t%s\t0\t%d\t-\n" % (key, names[paths[i]],
                                                          int(key[24:32], 16))
        ac = hashlib.sha256(key.encode()).hexdigest()
        with open(os.path.join(cache, "ac", ac), "wb") as fh:
            fh.write(encode_ac(text.encode(), ["%s:%s:%d" % (names[paths[i]], sha,
                                                             len(data))]))
    os.rmdir(tmp)
    print("rcache-fill: %d records, %d objects from %d real images"
          % (len(nodes), len(nodes), len(seeds)))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__.split("\n\n")[1])
    main(*sys.argv[1:])
