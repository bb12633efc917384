#!/usr/bin/env python3
"""Fake bazel-remote HTTP cache for loramake's team-cache tests.

Python 3 standard library only. It enforces what bazel-remote's HTTP API
(server/http.go, cache/disk/disk.go, utils/validate) enforces, with its
status codes:

  GET|HEAD|PUT  [/INSTANCE]/ac/SHA256     an action result
  GET|HEAD|PUT  [/INSTANCE]/cas/SHA256    a blob
  GET|POST      /_control                 read or change settings (tests)
  GET           /_stats                   the ledger the tests read

- A name that is not 64 lowercase hex digits under ac/ or cas/: 400
  "resource name must be a SHA256 hash in hex, got '...'". A method other
  than GET, HEAD, PUT: 405.
- PUT needs a Content-Length (400 without); an empty body is refused
  under cas/ unless its name is the SHA-256 of nothing (400); a body over
  --max-blob-size is 400; a Content-Encoding other than identity is 400
  here (the real server also takes zstd; loramake never sends it).
- PUT cas/: the body's SHA-256 must be its name and its size the
  Content-Length, else 500 ("Unexpected error adding item to cache: ...",
  as the disk cache's sha256verifier fails the write).
- PUT ac/, validating (the default): the body must be a binary Bazel
  ActionResult (400 if it does not parse), whose output files have a
  path that is not empty nor absolute and a digest of 64 hex digits and a
  size not negative (400 "Failed to marshal ActionResult: ..."). The
  server adds execution_metadata.worker (the client's address) and stores
  the message re-encoded, so what GET answers is not what PUT sent.
- GET|HEAD ac/, validating: 404 unless the stored result parses,
  validates and every blob it names (output files without inline
  contents, stdout and stderr digests, output directories' tree digests)
  is in the CAS.
- --disable_http_ac_validation: ac/ holds any bytes (bazel-remote's RAW
  kind); GET and HEAD answer what is there.
- Success: 200 (PUT with an empty body); a miss: 404 "Not found".

/_control takes JSON: {"reset": true} empties the cache and the ledger,
{"drop_cas": "HASH"} forgets one blob, {"drop_cas_all": true} every blob.
/_stats answers {"requests": [[method, path, status], ...],
"counts": {"PUT cas 200": n, ...}, "ac": n, "cas": n}.

`bazel_remote_fake.py encode-ac --text FILE --object NAME:SHA256:SIZE ...`
prints an ActionResult (stdout_raw = FILE's bytes, one output file per
object) for tests that plant a record by hand.
"""

import argparse
import hashlib
import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakelib import serve  # noqa: E402  (the serve loop every fake shares)

BLOB_NAME = re.compile(r"^/?(.*/)?(ac/|cas/)([a-f0-9]{64})$")
HASH_KEY = re.compile(r"^[a-f0-9]{64}$")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

# build.bazel.remote.execution.v2 field numbers
AR_OUTPUT_FILES, AR_OUTPUT_DIRS, AR_STDOUT_DIGEST, AR_STDERR_DIGEST = 2, 3, 6, 8
AR_METADATA = 9
AR_SYMLINKS = (10, 11, 12)   # output_{file,directory,}_symlinks
FILE_PATH, FILE_DIGEST, FILE_CONTENTS = 1, 2, 5
DIR_PATH, DIR_TREE = 1, 3
DIGEST_HASH, DIGEST_SIZE = 1, 2
META_WORKER = 1


class ProtoError(ValueError):
    pass


# ---- the protobuf wire format ----

def read_varint(b, i):
    v = shift = 0
    for _ in range(10):
        if i >= len(b):
            break
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v & (2**64 - 1), i
    raise ProtoError("bad varint")


def fields(b):
    """[(num, wire, value)] of a message; value is int or bytes."""
    out, i = [], 0
    while i < len(b):
        tag, i = read_varint(b, i)
        num, wire = tag >> 3, tag & 7
        if num == 0:
            raise ProtoError("field number 0")
        if wire == 0:
            v, i = read_varint(b, i)
        elif wire == 1 or wire == 5:
            n = 8 if wire == 1 else 4
            if i + n > len(b):
                raise ProtoError("cut short")
            v, i = int.from_bytes(b[i:i + n], "little"), i + n
        elif wire == 2:
            n, i = read_varint(b, i)
            if i + n > len(b):
                raise ProtoError("length past the end")
            v, i = b[i:i + n], i + n
        else:
            raise ProtoError("wire type %d" % wire)
        out.append((num, wire, v))
    return out


def varint(v):
    out = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        out.append(c | (0x80 if v else 0))
        if not v:
            return bytes(out)


def encode(flds):
    out = bytearray()
    for num, wire, v in flds:
        out += varint(num << 3 | wire)
        if wire == 0:
            out += varint(v)
        elif wire == 2:
            out += varint(len(v)) + v
        else:
            out += v.to_bytes(8 if wire == 1 else 4, "little")
    return bytes(out)


def string_field(flds, num):
    s = b""
    for n, w, v in flds:
        if n == num:
            if w != 2:
                raise ProtoError("field %d: wrong wire type" % num)
            s = v
    try:
        return s.decode("utf-8")   # proto3 strings must be UTF-8
    except UnicodeDecodeError:
        raise ProtoError("field %d: invalid UTF-8" % num)


def digest_of(b):
    """(hash, size) of a Digest message."""
    f = fields(b)
    size = 0
    for n, w, v in f:
        if n == DIGEST_SIZE:
            if w != 0:
                raise ProtoError("size_bytes: wrong wire type")
            size = v - 2**64 if v >= 2**63 else v
    return string_field(f, DIGEST_HASH), size


def sub_messages(flds, num):
    out = []
    for n, w, v in flds:
        if n == num:
            if w != 2:
                raise ProtoError("field %d: wrong wire type" % num)
            out.append(v)
    return out


# ---- validate.ActionResult ----

def check_digest(d, what):
    h, size = d
    if size < 0:
        raise ValueError("invalid Digest for %s: digest has negative SizeBytes" % what)
    if not HASH_KEY.match(h):
        raise ValueError("invalid Digest for %s: invalid hash: %r" % (what, h))


def validate(ar):
    """The blobs ar needs in the CAS [(hash, size)]; ValueError if invalid
    (ProtoError if it does not parse)."""
    f = fields(ar)
    needed = []
    for of in sub_messages(f, AR_OUTPUT_FILES):
        ff = fields(of)
        path = string_field(ff, FILE_PATH)
        if path == "":
            raise ValueError("empty path")
        if path.startswith("/"):
            raise ValueError("absolute path in output file: %r" % path)
        ds = sub_messages(ff, FILE_DIGEST)
        if not ds:
            raise ValueError("nil Digest for path %r" % path)
        d = digest_of(ds[-1])
        check_digest(d, "path %r" % path)
        if not sub_messages(ff, FILE_CONTENTS):
            needed.append(d)
    for od in sub_messages(f, AR_OUTPUT_DIRS):
        df = fields(od)
        path = string_field(df, DIR_PATH)
        if path.startswith("/"):
            raise ValueError("absolute path in output directory: %r" % path)
        ts = sub_messages(df, DIR_TREE)
        if not ts:
            raise ValueError("nil tree digest pointer for output directory: %r" % path)
        d = digest_of(ts[-1])
        check_digest(d, "path %r" % path)
        needed.append(d)
    for num in AR_SYMLINKS:
        for s in sub_messages(f, num):
            sf = fields(s)
            if string_field(sf, 1) == "" or string_field(sf, 2) == "":
                raise ValueError("empty path or target in a symlink")
    for num, what in ((AR_STDOUT_DIGEST, "StdoutDigest"), (AR_STDERR_DIGEST, "StderrDigest")):
        for d in sub_messages(f, num):
            dd = digest_of(d)
            check_digest(dd, what)
            needed.append(dd)
    return needed


def add_worker(ar, worker):
    """ar with execution_metadata.worker set (unless one is), re-encoded in
    field order, as proto.Marshal writes it."""
    f = fields(ar)
    meta = sub_messages(f, AR_METADATA)
    mf = fields(meta[-1]) if meta else []
    if not string_field(mf, META_WORKER):
        mf = [x for x in mf if x[0] != META_WORKER] + [(META_WORKER, 2, worker.encode())]
        mf.sort(key=lambda x: x[0])
    rest = [x for x in f if x[0] != AR_METADATA] + [(AR_METADATA, 2, encode(mf))]
    rest.sort(key=lambda x: x[0])
    return encode(rest)


# ---- the server ----

class Fake:
    def __init__(self, port=0, validate_ac=True, max_blob_size=2**30):
        self.validate_ac = validate_ac
        self.max_blob_size = max_blob_size
        self.lock = threading.Lock()
        self.reset()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.server.fake = self
        self.port = self.server.server_address[1]

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.ac, self.cas, self.requests = {}, {}, []

    def record(self, method, path, status):
        with self.lock:
            self.requests.append([method, path, status])

    def stats(self):
        with self.lock:
            counts = {}
            for m, p, s in self.requests:
                m2 = BLOB_NAME.match(p)
                k = "%s %s %d" % (m, m2.group(2)[:-1] if m2 else "other", s)
                counts[k] = counts.get(k, 0) + 1
            return {"requests": list(self.requests), "counts": counts,
                    "ac": len(self.ac), "cas": len(self.cas)}

    def valid_ac(self, h):
        """The stored result of h if it validates and its blobs are all in
        the CAS (GetValidatedActionResult), else None."""
        ar = self.ac.get(h)
        if not ar:
            return None
        try:
            needed = validate(ar)
        except ValueError:
            return None
        for d, size in needed:
            if d not in self.cas or len(self.cas[d]) != size:
                return None
        return ar

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    @property
    def fake(self):
        return self.server.fake

    def _send(self, code, body=b"", ctype="text/plain; charset=utf-8", head=False):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)
        self.fake.record(self.command, self.path, code)

    def _error(self, code, msg):
        # Go's http.Error: the text and a newline
        self._send(code, (msg + "\n").encode(), head=self.command == "HEAD")

    def _name(self):
        m = BLOB_NAME.match(self.path)
        if not m:
            self._error(400, "resource name must be a SHA256 hash in hex, got '%s'"
                        % self.path)
            return None, None
        return m.group(2)[:-1], m.group(3)

    def _control(self):
        if self.command == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            c = json.loads(self.rfile.read(n) or b"{}")
            if c.get("reset"):
                self.fake.reset()
            with self.fake.lock:
                if "drop_cas" in c:
                    self.fake.cas.pop(c["drop_cas"], None)
                if c.get("drop_cas_all"):
                    self.fake.cas.clear()
        body = json.dumps({"validate_ac": self.fake.validate_ac}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stats(self):
        body = json.dumps(self.fake.stats()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _get(self, head):
        kind, h = self._name()
        if not kind:
            return
        with self.fake.lock:
            if kind == "ac" and self.fake.validate_ac:
                data = self.fake.valid_ac(h)
            else:
                data = (self.fake.ac if kind == "ac" else self.fake.cas).get(h)
        if data is None:
            self._error(404, "Not found")
            return
        self._send(200, data, "application/octet-stream", head=head)

    def do_GET(self):
        if self.path == "/_stats":
            return self._stats()
        if self.path == "/_control":
            return self._control()
        self._get(False)

    def do_HEAD(self):
        self._get(True)

    def do_POST(self):
        if self.path == "/_control":
            return self._control()
        self._error(405, "Method 'POST' not supported.")

    def do_DELETE(self):
        self._error(405, "Method 'DELETE' not supported.")

    def do_PUT(self):
        kind, h = self._name()
        if not kind:
            return
        cl = self.headers.get("Content-Length")
        if cl is None:
            self.close_connection = True   # the body is not read
            self._error(400, "PUT without Content-Length (key = /%s/%s)" % (kind, h))
            return
        size = int(cl)
        body = self.rfile.read(size)
        ce = self.headers.get("Content-Encoding", "")
        if size == 0 and kind == "cas" and h != EMPTY_SHA256:
            self._error(400, 'Invalid empty blob hash: "%s"' % h)
        elif size > self.fake.max_blob_size:
            self._error(400, "Blob size %d exceeds maximum allowed size %d"
                        % (size, self.fake.max_blob_size))
        elif ce not in ("", "identity"):
            self._error(400, "Unsupported content-encoding: %r" % ce)
        elif kind == "cas":
            self._put_cas(h, size, body)
        elif self.fake.validate_ac:
            self._put_valid_ac(h, body)
        else:
            with self.fake.lock:
                self.fake.ac[h] = body
            self._send(200)

    def _put_cas(self, h, size, body):
        got = hashlib.sha256(body).hexdigest()
        if len(body) != size:
            self._error(500, "Unexpected error adding item to cache: sizes don't "
                        "match. Expected %d, found %d" % (size, len(body)))
        elif got != h:
            self._error(500, "Unexpected error adding item to cache: failed to "
                        "verify hash: error: expected hash %s, got %s" % (h, got))
        else:
            with self.fake.lock:
                self.fake.cas[h] = body
            self._send(200)

    def _put_valid_ac(self, h, body):
        if self.headers.get("Content-Type") == "application/json":
            self._error(400, "fake: JSON ActionResults are not supported")
            return
        try:
            validate(body)
            stored = add_worker(body, self.client_address[0])
        except ProtoError as e:
            self._error(400, "Failed to add worker metadata: proto: %s" % e)
            return
        except ValueError as e:
            self._error(400, "Failed to marshal ActionResult: %s" % e)
            return
        with self.fake.lock:
            self.fake.ac[h] = stored
        self._send(200)


def encode_ac(text, objects):
    flds = []
    for o in objects:
        name, sha, size = o.split(":")
        digest = encode([(DIGEST_HASH, 2, sha.encode()), (DIGEST_SIZE, 0, int(size))])
        flds.append((AR_OUTPUT_FILES, 2,
                     encode([(FILE_PATH, 2, name.encode()), (FILE_DIGEST, 2, digest)])))
    flds.append((5, 2, text))
    return encode(flds)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "encode-ac":
        ap = argparse.ArgumentParser(prog="bazel_remote_fake.py encode-ac")
        ap.add_argument("--text", required=True)
        ap.add_argument("--object", action="append", default=[])
        a = ap.parse_args(argv[1:])
        with open(a.text, "rb") as f:
            sys.stdout.buffer.write(encode_ac(f.read(), a.object))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--disable_http_ac_validation", action="store_true")
    ap.add_argument("--max-blob-size", type=int, default=2**30)
    a = ap.parse_args(argv)
    fake = Fake(port=a.port, validate_ac=not a.disable_http_ac_validation,
                max_blob_size=a.max_blob_size)
    return serve(fake)


if __name__ == "__main__":
    sys.exit(main())
