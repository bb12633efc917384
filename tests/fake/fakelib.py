"""What loramake's fake servers share (tests/fake/*_fake.py).

Python 3 standard library only.  A fake keeps its settings in a table,
SETTINGS = {name: (default, parser)}, that its command line, its
/_control and its tests all read; the parsers here check a value the way
the harness sends it (JSON or a command-line string).  serve() runs a fake
until SIGTERM or SIGINT, after printing the "PORT N" line the harness
waits for (tests/cli/lib.sh's wait_for).
"""

import argparse
import hashlib
import json
import signal
import struct
import sys
import threading


def nonneg(v):
    """A number >= 0 (a boolean is not one)."""
    if isinstance(v, bool):
        raise ValueError("must be a number")
    v = float(v)
    if v < 0:
        raise ValueError("must be >= 0")
    return v


def count(v):
    """An integer >= 0."""
    v = nonneg(v)
    if v != int(v):
        raise ValueError("must be an integer")
    return int(v)


def prob(v):
    """A probability, 0 to 1."""
    v = nonneg(v)
    if v > 1:
        raise ValueError("must be between 0 and 1")
    return v


def boolean(v):
    """true/false, 1/0, yes/no, on/off."""
    if isinstance(v, bool):
        return v
    if str(v).lower() in ("1", "true", "yes", "on"):
        return True
    if str(v).lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be a boolean")


def shorten(v):
    """v for the ledger: a long string (an image in base64) as its length
    and a hash, so /_stats?bodies=1 stays small."""
    if isinstance(v, str) and len(v) > 256:
        return "<%d chars sha256=%s>" % (len(v), hashlib.sha256(v.encode()).hexdigest()[:16])
    if isinstance(v, list):
        return [shorten(x) for x in v]
    if isinstance(v, dict):
        return {k: shorten(x) for k, x in v.items()}
    return v


def is_safetensors(data):
    """Are bytes a safetensors frame: an 8-byte little-endian length, a
    JSON object of that length whose tensors' data_offsets lie within
    the bytes after it?"""
    if len(data) < 10:
        return False
    n = struct.unpack("<Q", data[:8])[0]
    if 8 + n > len(data) or data[8:9] != b"{":
        return False
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    if not isinstance(header, dict):
        return False
    room = len(data) - 8 - n
    for name, t in header.items():
        if name == "__metadata__":
            continue
        offs = t.get("data_offsets") if isinstance(t, dict) else None
        if (not isinstance(offs, list) or len(offs) != 2
                or not all(isinstance(o, int) for o in offs)
                or not 0 <= offs[0] <= offs[1] <= room):
            return False
    return True


def apply_settings(cfg, settings, req, actions=()):
    """cfg with req's settings parsed by the table (ValueError on an unknown
    one); the names in actions (reset, release, ...) are the caller's."""
    new = dict(cfg)
    for k, v in req.items():
        if k in actions:
            continue
        if k not in settings:
            raise ValueError("unknown setting '%s'" % k)
        new[k] = settings[k][1](v)
    return new


def control(fake, settings, req):
    """POST /_control for a fake of one GPU queue (a1111, comfyui): change
    settings, and reset (everything), reset_stats (the ledger) or release
    (a held job) as asked; wakes the waiting jobs.  The settings now, or
    ValueError/TypeError for a bad request."""
    if not isinstance(req, dict):
        raise ValueError("must be an object")
    with fake.lock:
        fake.cfg = apply_settings(fake.cfg, settings, req,
                                  ("reset", "reset_stats", "release"))
        if req.get("reset"):
            fake.reset()
        elif req.get("reset_stats"):
            fake.reset_stats()
        if req.get("release"):
            fake.released += 1
        fake.wake.notify_all()
        return dict(fake.cfg)


def arg_parser(doc, settings):
    """--port, --log and a --NAME for every setting."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log")
    for name, (default, _) in settings.items():
        ap.add_argument("--" + name.replace("_", "-"), dest=name, default=default)
    return ap


def serve(fake):
    """Start fake (its start/stop/port), print "PORT N", and serve until
    SIGTERM or SIGINT."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    fake.start()
    sys.stdout.write("PORT %d\n" % fake.port)
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    fake.stop()
    return 0
