#!/usr/bin/env python3
"""Fake Replicate predictions API for loramake's integration tests.

Python 3 standard library only; modelled on fal_server.py beside it.  It
follows /work/shared/ENGINES.md section 2:

  POST /v1/models/{owner}/{name}/predictions   create, official model
  POST /v1/predictions                          create, {"version": hex}
  GET  /v1/predictions/{id}                     the prediction object
  POST /v1/predictions/{id}/cancel              cancel (the object back)
  POST /v1/models/{owner}/{name}/versions/{version}/trainings
                                                a training (TRAINERS.md 1.8):
                                                {destination, input:
                                                {input_images: a ZIP}}
  GET  /v1/trainings/{id}                       the training object; output
                                                {version, weights: a .tar
                                                holding lora.safetensors}
  POST /v1/trainings/{id}/cancel                cancel (the object back)
  POST /v1/files                                upload (multipart/form-data,
                                                part "content"): a file object
  GET  /v1/files/{id}                           that file object
  GET  /files/{name}                            outputs (no auth)
  GET|POST /_control                            read or change settings
  GET  /_stats[?bodies=1]                       accounting for the tests

A prediction is "starting", then "processing", then "succeeded" (output:
a list of one file URL, or the URL alone with output_list false) or
"failed" (job_fail).  `Prefer: wait[=N]` holds the create up to N
seconds (at most 60) for the prediction to finish.  Errors are RFC 7807
objects {title, detail, status}; a 429 also carries retry_after (seconds)
in the body and, unless retry_after_header is false, a Retry-After.

An uploaded file's urls.get may be an input value; a create whose input
names one of this fake's /v1/files/ URLs that was never uploaded answers
422.  black-forest-labs/flux-dev-lora (LORA_MODELS) takes a LoRA as
lora_weights, which here must be the urls.get of a file uploaded to this
fake whose bytes are a safetensors frame, and lora_scale (-1 to 3) and
num_outputs (1 to 4) as Replicate's schema bounds them; anything else is
a 422 in Replicate's shape (title, detail, status, invalid_fields).  The
ledger (/_stats) lists every upload (uploaded: id, name, content type,
size, sha256, urls.get) beside every create's body.  The files API's errors are its RFC 7807 objects too: 401 without the
token, 400 for a body that is not multipart/form-data with a "content"
part (a file), 413 over max_file_bytes (Replicate's 100 MiB).

Faults: fail_500 (create and poll answer 500), drop (half the body, then
the connection closes; a dropped create HAS made its prediction),
truncate (a served file cut in half, its Content-Length too; cut_files:
the next N), burst_429 (the next N API
requests), submit_rate (creates a second; over it 429), job_fail.
"""

import argparse
import base64
import binascii
import email.parser
import email.policy
import hashlib
import io
import json
import math
import os
import random
import re
import socket
import sys
import tarfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fal_server import make_png, safetensors_blob  # noqa: E402  (the same files)
from fakelib import boolean as _bool, count as _count, nonneg as _nonneg  # noqa: E402
from fakelib import prob as _prob, serve, shorten as _shorten  # noqa: E402
from fakelib import is_safetensors  # noqa: E402


SETTINGS = {
    "job_ms": (200, _count),           # create -> succeeded
    "starting_ms": (0, _count),        # first part of job_ms spent "starting"
    "fail_500": (0.0, _prob),          # P(a create or poll answers 500)
    "drop": (0.0, _prob),              # P(an answer is cut mid-body)
    "truncate": (0.0, _prob),          # P(a served file is cut in half)
    "cut_files": (0, _count),          # the next N served files cut in half
    "burst_429": (0, _count),          # next N API requests answer 429
    "submit_rate": (0, _nonneg),       # creates a second; 0: no limit
    "retry_after": (1, _nonneg),       # seconds, in the body and header
    "retry_after_header": (True, _bool),
    "job_fail": (0.0, _prob),          # P(a prediction ends "failed")
    "output_list": (True, _bool),      # output as [url] (else the URL)
    "image_size": (64, _count),
    "max_file_bytes": (100 << 20, _count),  # the files API's limit
    "files_url_base": ("", str),       # urls.get of uploads on this base
                                       # instead (a hostile answer)
    "seed": (1, int),
    "train_ms": (300, _count),         # a training's create -> succeeded
}

PNG_NAME = re.compile(r"^([0-9a-f]{32})-(\d+)\.png$")
WEIGHTS_NAME = re.compile(r"^([0-9a-f]{26})-trained_model\.tar$")
MODEL = re.compile(r"^[A-Za-z0-9._-]+$")
VERSION = re.compile(r"^[0-9a-f]{1,128}$")

# Models that load a LoRA at run time: the bounds of their inputs
# (Replicate's schema: lora_scale -1..3 on the Flux dev family's LoRA
# input, num_outputs 1..4).
LORA_MODELS = {
    "black-forest-labs/flux-dev-lora": {"lora_scale": (-1, 3),
                                        "num_outputs": (1, 4)},
}


class Prediction:
    pass


class Fake:
    def __init__(self, port=0, key="test-token", log_path=None, **settings):
        self.key = key
        self.lock = threading.Lock()
        self.log_file = open(log_path, "a") if log_path else None
        self.cfg = {k: d for k, (d, _) in SETTINGS.items()}
        for k, v in settings.items():
            self.cfg[k] = SETTINGS[k][1](v)
        self.server = Server(("127.0.0.1", port), Handler)
        self.server.fake = self
        self.port = self.server.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        self.reset()

    def reset(self):
        self.rng = random.Random(self.cfg["seed"])
        self.preds = {}
        self.trainings = {}
        self.files = {}          # id -> file object (uploads)
        self.file_heads = {}     # id -> its first bytes (what a training checks)
        self.file_loras = set()  # ids of uploads that are safetensors files
        self.tokens = None
        self.t_tokens = 0.0
        self.reset_stats()

    def reset_stats(self):
        self.stats = {
            "submits_total": 0, "submits_by_key": {}, "submits_without_key": 0,
            "submitted": [], "bodies": [], "polls": 0, "cancels": 0,
            "cancels_effective": 0, "files_served": 0, "prefer_wait": 0,
            "max_inflight": 0, "by_status": {}, "auth_failures": 0,
            "uploads": 0, "upload_bytes": 0, "uploads_by_key": {},
            "uploaded": [],
            "faults": {"burst_429": 0, "rate_429": 0, "fail": 0, "drop": 0,
                       "truncate": 0, "job_fail": 0},
            "trainings": 0, "training_bodies": [], "training_cancels": 0,
        }

    def log(self, line):
        if self.log_file:
            with self.lock:
                self.log_file.write(line + "\n")
                self.log_file.flush()

    def over_rate(self, now):
        rate = self.cfg["submit_rate"]
        if rate <= 0:
            return False
        cap = max(1.0, rate)
        if self.tokens is None:
            self.tokens = cap
        self.tokens = min(cap, self.tokens + (now - self.t_tokens) * rate)
        self.t_tokens = now
        if self.tokens < 1.0:
            return True
        self.tokens -= 1.0
        return False

    def inflight(self, now):
        return sum(1 for p in self.preds.values()
                   if p.t_done > now and not p.cancelled)

    def status(self, p, now):
        if p.cancelled:
            return "canceled"
        if now < p.t_start:
            return "starting"
        if now < p.t_done:
            return "processing"
        return "failed" if p.fails else "succeeded"

    def obj(self, p, now):
        """The prediction object of ENGINES.md 2.2."""
        st = self.status(p, now)
        url = "%s/v1/predictions/%s" % (self.base, p.id)
        out = None
        if st == "succeeded":
            f = "%s/files/%s-%d.png" % (self.base, p.fid, self.cfg["image_size"])
            out = [f] if self.cfg["output_list"] else f
        return {
            "id": p.id, "model": p.model, "version": p.version,
            "status": st, "input": p.input, "output": out,
            "error": "CUDA out of memory" if st == "failed" else None,
            "logs": "", "source": "api",
            "created_at": p.created,
            "urls": {"get": url, "cancel": url + "/cancel",
                     "web": "https://replicate.com/p/" + p.id},
        }

    def training_obj(self, t, now):
        """A training object: a prediction's fields, and output {version,
        weights} once it succeeded."""
        st = self.status(t, now)
        url = "%s/v1/trainings/%s" % (self.base, t.id)
        out = None
        if st == "succeeded":
            out = {"version": "%s:%s" % (t.destination, t.fid[:32]),
                   "weights": "%s/files/%s-trained_model.tar" % (self.base, t.id)}
        return {
            "id": t.id, "model": t.model, "version": t.version,
            "destination": t.destination, "status": st, "input": t.input,
            "output": out, "error": "training failed" if st == "failed" else None,
            "logs": "", "created_at": t.created,
            "urls": {"get": url, "cancel": url + "/cancel",
                     "web": "https://replicate.com/p/" + t.id},
        }

    def start(self):
        t = threading.Thread(target=self.server.serve_forever, daemon=True)
        t.start()

    def stop(self):
        self.server.shutdown()


class Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


def problem(status, title, detail, **more):
    d = {"title": title, "detail": detail, "status": status}
    d.update(more)
    return d


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    # an answer's headers and body leave in one send (http.server flushes
    # after each request; the fakes flush themselves where they trickle or
    # cut an answer): two sends a request cost a loaded fake ~0.15 ms each
    wbufsize = 1 << 16
    server_version = "fake-replicate/1"

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        pass

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, code, body=b"", ctype="application/json", headers=None,
              drop=False, truncate=False):
        fake = self.server.fake
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        if truncate:
            body = body[:len(body) // 2]
        with fake.lock:
            if self.kind not in ("control", "stats"):
                bs = fake.stats["by_status"]
                bs[str(code)] = bs.get(str(code), 0) + 1
            if drop:
                fake.stats["faults"]["drop"] += 1
            if truncate:
                fake.stats["faults"]["truncate"] += 1
        fake.log("%s %s %d%s%s" % (self.command, self.path, code,
                                   " dropped" if drop else "",
                                   " truncated" if truncate else ""))
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if drop:
            self.wfile.write(body[:len(body) // 2])
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True
        else:
            self.wfile.write(body)

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def _route(self, parts):
        m = self.command
        if parts == ["_control"] and m in ("GET", "POST"):
            return "control", ()
        if parts == ["_stats"] and m == "GET":
            return "stats", ()
        if len(parts) == 2 and parts[0] == "files" and m == "GET":
            return "file", (parts[1],)
        if parts[:1] != ["v1"]:
            return None, ()
        p = parts[1:]
        if m == "POST" and p == ["predictions"]:
            return "create", (None, None)
        if m == "POST" and len(p) == 4 and p[0] == "models" and p[3] == "predictions":
            return "create", (p[1], p[2])
        if m == "GET" and len(p) == 2 and p[0] == "predictions":
            return "poll", (p[1],)
        if m == "POST" and len(p) == 3 and p[0] == "predictions" and p[2] == "cancel":
            return "cancel", (p[1],)
        if m == "POST" and p == ["files"]:
            return "upload", ()
        if m == "GET" and len(p) == 2 and p[0] == "files":
            return "file_object", (p[1],)
        return self._route_training(m, p)

    def _route_training(self, m, p):
        if (m == "POST" and len(p) == 6 and p[0] == "models" and p[3] == "versions"
                and p[5] == "trainings"):
            return "train_create", (p[1], p[2], p[4])
        if m == "GET" and len(p) == 2 and p[0] == "trainings":
            return "train_poll", (p[1],)
        if m == "POST" and len(p) == 3 and p[0] == "trainings" and p[2] == "cancel":
            return "train_cancel", (p[1],)
        return None, ()

    def _dispatch(self):
        fake = self.server.fake
        url = urlsplit(self.path)
        parts = [x for x in url.path.split("/") if x]
        self.kind, args = self._route(parts)
        self.query = parse_qs(url.query)
        self.body = self._read_body()
        if self.kind is None:
            return self._send(404, problem(404, "Not found",
                                           "The requested resource could not be found."))
        if self.kind in ("control", "stats"):
            return getattr(self, "_h_" + self.kind)()
        with fake.lock:
            u = [fake.rng.random() for _ in range(4)]
        if self.kind == "file":
            return self._h_file(args[0], u[1] < fake.cfg["drop"],
                                u[2] < fake.cfg["truncate"])
        if self.headers.get("Authorization", "") != "Bearer " + fake.key:
            with fake.lock:
                fake.stats["auth_failures"] += 1
            return self._send(401, problem(401, "Unauthenticated",
                                           "You did not pass a valid authentication token"))
        with fake.lock:
            throttle = fake.cfg["burst_429"] > 0
            if throttle:
                fake.cfg["burst_429"] -= 1
                fake.stats["faults"]["burst_429"] += 1
            elif self.kind == "create" and fake.over_rate(time.monotonic()):
                throttle = True
                fake.stats["faults"]["rate_429"] += 1
            fail = (not throttle and self.kind in ("create", "poll", "train_create",
                                                   "train_poll")
                    and u[0] < fake.cfg["fail_500"])
            if fail:
                fake.stats["faults"]["fail"] += 1
            ra = fake.cfg["retry_after"]
            ra_header = fake.cfg["retry_after_header"]
        if throttle:
            hdr = {"Retry-After": str(int(math.ceil(ra)))} if ra_header else {}
            return self._send(429, problem(
                429, "Request was throttled",
                "Request was throttled. Your rate limit resets in ~%ds." % math.ceil(ra),
                retry_after=ra), headers=hdr)
        if fail:
            return self._send(500, problem(500, "Internal Server Error",
                                           "Internal server error"))
        self.drop = u[1] < fake.cfg["drop"]
        self.fails = u[3] < fake.cfg["job_fail"]
        return getattr(self, "_h_" + self.kind)(*args)

    def _h_create(self, owner, name):
        fake = self.server.fake
        try:
            body = json.loads(self.body.decode()) if self.body else None
        except (UnicodeDecodeError, ValueError):
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
            return self._send(422, problem(422, "Input validation failed",
                                           "- input: Invalid type. Expected: object",
                                           invalid_fields=[{"field": "input"}]))
        version = body.get("version")
        if owner is None:
            if not isinstance(version, str) or not VERSION.match(version):
                return self._send(422, problem(422, "Invalid version",
                                               "The specified version does not exist (or perhaps you don't have permission to use it?)"))
            model = "pinned"
        else:
            if not (MODEL.match(owner) and MODEL.match(name)):
                return self._send(404, problem(404, "Not found",
                                               "The requested resource could not be found."))
            model = owner + "/" + name
        inp = body["input"]
        if "prompt" in inp and not isinstance(inp["prompt"], str):
            return self._send(422, problem(422, "Input validation failed",
                                           "- input.prompt: Invalid type. Expected: string"))
        missing = self._unknown_file(inp)
        if missing:
            return self._send(422, problem(422, "Input validation failed",
                                           "- input.%s: file not found: %s" % missing))
        bad = self._lora_refusal(model, inp)
        if bad:
            return self._send(422, problem(422, "Input validation failed",
                                           "- input.%s: %s" % bad,
                                           invalid_fields=[{"field": "input." + bad[0]}]))
        key = self.headers.get("X-Loramake-Key")
        now = time.monotonic()
        with fake.lock:
            p = Prediction()
            p.id = uuid.UUID(int=fake.rng.getrandbits(128)).hex[:26]
            p.fid = uuid.UUID(int=fake.rng.getrandbits(128)).hex
            p.model, p.version, p.input = model, version, inp
            p.created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            jm = fake.cfg["job_ms"]
            p.t_start = now + min(fake.cfg["starting_ms"], jm) / 1000.0
            p.t_done = now + jm / 1000.0
            p.fails = self.fails
            p.cancelled = False
            if p.fails:
                fake.stats["faults"]["job_fail"] += 1
            fake.preds[p.id] = p
            s = fake.stats
            s["submits_total"] += 1
            if key:
                s["submits_by_key"][key] = s["submits_by_key"].get(key, 0) + 1
            else:
                s["submits_without_key"] += 1
            s["submitted"].append({"id": p.id, "model": model,
                                   "version": version, "key": key})
            s["bodies"].append({"model": model, "body": _shorten(body)})
            s["max_inflight"] = max(s["max_inflight"], fake.inflight(now))
        wait = self._prefer_wait()
        if wait:
            with fake.lock:
                fake.stats["prefer_wait"] += 1
            time.sleep(max(0.0, min(wait, p.t_done - time.monotonic())))
        with fake.lock:
            obj = fake.obj(p, time.monotonic())
        return self._send(201, obj, drop=self.drop)

    def _prefer_wait(self):
        m = re.match(r"^\s*wait(?:=(\d+))?\s*$", self.headers.get("Prefer", ""))
        if not m:
            return 0
        return min(60, int(m.group(1) or 60))

    def _h_poll(self, pid):
        fake = self.server.fake
        with fake.lock:
            p = fake.preds.get(pid)
            fake.stats["polls"] += 1
            obj = fake.obj(p, time.monotonic()) if p else None
        if obj is None:
            return self._send(404, problem(404, "Not found",
                                           "The requested resource could not be found."))
        return self._send(200, obj, drop=self.drop)

    def _h_cancel(self, pid):
        fake = self.server.fake
        now = time.monotonic()
        with fake.lock:
            p = fake.preds.get(pid)
            fake.stats["cancels"] += 1
            if p and p.t_done > now and not p.cancelled:
                p.cancelled = True
                fake.stats["cancels_effective"] += 1
            obj = fake.obj(p, now) if p else None
        if obj is None:
            return self._send(404, problem(404, "Not found",
                                           "The requested resource could not be found."))
        return self._send(200, obj)

    # -- trainings ---------------------------------------------------------

    def _zip_refusal(self, images):
        """Why input_images is not a ZIP (a data URI here; a URL elsewhere
        cannot be looked at), or None."""
        if not isinstance(images, str):
            return "- input.input_images: Invalid type. Expected: string"
        if not images.startswith("data:"):
            own = self.server.fake.base + "/v1/files/"
            if images.startswith(own):   # an upload of ours: look at it
                with self.server.fake.lock:
                    head = self.server.fake.file_heads.get(images[len(own):])
                if head is None:
                    return "- input.input_images: the file was not found"
                return None if head.startswith(b"PK\x03\x04") else \
                    "- input.input_images: the file is not a zip archive"
            return None if images.startswith(("https://", "http://")) else \
                "- input.input_images: Does not match format 'uri'"
        head, _, payload = images.partition(",")
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            return "- input.input_images: invalid base64 in the data URI"
        if not head.endswith(";base64") or not data.startswith(b"PK\x03\x04"):
            return "- input.input_images: the file is not a zip archive"
        return None

    def _h_train_create(self, owner, name, version):
        fake = self.server.fake
        try:
            body = json.loads(self.body.decode()) if self.body else None
        except (UnicodeDecodeError, ValueError):
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
            return self._send(422, problem(422, "Input validation failed",
                                           "- input: Invalid type. Expected: object"))
        if not (MODEL.match(owner) and MODEL.match(name) and VERSION.match(version)):
            return self._send(404, problem(404, "Not found",
                                           "The requested resource could not be found."))
        dest = body.get("destination")
        if not isinstance(dest, str) or not re.match(r"^[A-Za-z0-9._-]+/[A-Za-z0-9._-]+$", dest):
            return self._send(422, problem(422, "Invalid destination",
                                           "The destination model does not exist"))
        why = self._zip_refusal(body["input"].get("input_images"))
        if why:
            return self._send(422, problem(422, "Input validation failed", why))
        now = time.monotonic()
        with fake.lock:
            t = Prediction()
            t.id = uuid.UUID(int=fake.rng.getrandbits(128)).hex[:26]
            t.fid = uuid.UUID(int=fake.rng.getrandbits(128)).hex
            t.model, t.version, t.input = owner + "/" + name, version, body["input"]
            t.destination = dest
            t.created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            t.t_start = now
            t.t_done = now + fake.cfg["train_ms"] / 1000.0
            t.fails = self.fails
            t.cancelled = False
            fake.trainings[t.id] = t
            fake.stats["trainings"] += 1
            fake.stats["submitted"].append({"id": t.id, "model": t.model,
                                            "version": version, "key": None})
            fake.stats["training_bodies"].append(_shorten(body))
            obj = fake.training_obj(t, now)
        return self._send(201, obj, drop=self.drop)

    def _h_train_poll(self, tid):
        fake = self.server.fake
        with fake.lock:
            t = fake.trainings.get(tid)
            fake.stats["polls"] += 1
            obj = fake.training_obj(t, time.monotonic()) if t else None
        if obj is None:
            return self._send(404, problem(404, "Not found",
                                           "The requested resource could not be found."))
        return self._send(200, obj, drop=self.drop)

    def _h_train_cancel(self, tid):
        fake = self.server.fake
        now = time.monotonic()
        with fake.lock:
            t = fake.trainings.get(tid)
            fake.stats["training_cancels"] += 1
            if t and t.t_done > now:
                t.cancelled = True
            obj = fake.training_obj(t, now) if t else None
        if obj is None:
            return self._send(404, problem(404, "Not found",
                                           "The requested resource could not be found."))
        return self._send(200, obj)

    def _weights(self, tid):
        """trained_model.tar as Replicate's Flux trainers make it: the LoRA
        under output/flux_train_replicate/ (and its config beside)."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for path, data in (("output/flux_train_replicate/config.yaml",
                                b"job: extension\n"),
                               ("output/flux_train_replicate/lora.safetensors",
                                safetensors_blob(tid))):
                info = tarfile.TarInfo(path)
                info.size, info.mtime = len(data), 0
                tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    def _h_file(self, name, drop, trunc):
        fake = self.server.fake
        w = WEIGHTS_NAME.match(name)
        if w and w.group(1) in fake.trainings:
            data = self._weights(w.group(1))
            with fake.lock:
                fake.stats["files_served"] += 1
            return self._send(200, data, ctype="application/x-tar", drop=drop,
                              truncate=trunc)
        m = PNG_NAME.match(name)
        if not m or not 1 <= int(m.group(2)) <= 4096:
            return self._send(404, problem(404, "Not found", "File not found"))
        n = int(m.group(2))
        data = make_png(n, n, hashlib.sha256(name.encode()).digest())
        with fake.lock:
            fake.stats["files_served"] += 1
            if fake.cfg["cut_files"] > 0:
                fake.cfg["cut_files"] -= 1
                trunc = True
        return self._send(200, data, ctype="image/png", drop=drop, truncate=trunc)

    def _unknown_file(self, inp):
        """(field, url) of an input naming a /v1/files/ URL of this fake
        that was never uploaded, or None."""
        fake = self.server.fake
        prefix = fake.base + "/v1/files/"
        for k, v in inp.items():
            for u in (v if isinstance(v, list) else [v]):
                if isinstance(u, str) and u.startswith(prefix):
                    with fake.lock:
                        if u[len(prefix):] not in fake.files:
                            return k, u
        return None

    def _lora_refusal(self, model, inp):
        """(field, why) of a LoRA model's input this fake refuses, or None:
        lora_weights must be one of its uploads that is a safetensors file
        (Replicate fetches the URL; a file only this fake holds is one it
        can look at), the numbers within the schema's bounds."""
        bounds = LORA_MODELS.get(model)
        if bounds is None:
            return None
        for field, (lo, hi) in sorted(bounds.items()):
            v = inp.get(field)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or \
                    (field == "num_outputs" and v != int(v)):
                return field, "Invalid type. Expected: %s" % (
                    "integer" if field == "num_outputs" else "number")
            if not lo <= v <= hi:
                return field, "Must be between %s and %s" % (lo, hi)
        lora = inp.get("lora_weights")
        if lora is None:
            return None     # flux dev without a LoRA
        if not isinstance(lora, str):
            return "lora_weights", "Invalid type. Expected: string"
        own = self.server.fake.base + "/v1/files/"
        if not lora.startswith(own):
            return "lora_weights", ("could not load LoRA weights from %s: this "
                                    "server takes only a file uploaded to its "
                                    "/v1/files" % lora)
        with self.server.fake.lock:
            ok = lora[len(own):] in self.server.fake.file_loras
        if not ok:
            return "lora_weights", ("could not load LoRA weights from %s: not a "
                                    "safetensors file" % lora)
        return None

    def _h_upload(self):
        """POST /v1/files: multipart/form-data whose part "content" is the
        file (replicate-python files.create, JS files.create)."""
        fake = self.server.fake
        if len(self.body) > fake.cfg["max_file_bytes"]:
            return self._send(413, problem(413, "Request Entity Too Large",
                                           "File size exceeds the maximum allowed size of %d bytes"
                                           % fake.cfg["max_file_bytes"]))
        part = _multipart_content(self.headers.get("Content-Type", ""), self.body)
        if part is None:
            return self._send(400, problem(400, "Bad Request",
                                           "A file must be uploaded as multipart/form-data with a 'content' part"))
        name, ctype, data = part
        key = self.headers.get("X-Loramake-Key")
        with fake.lock:
            fid = uuid.UUID(int=fake.rng.getrandbits(128)).hex[:24]
            obj = {"id": fid, "name": name, "content_type": ctype, "size": len(data),
                   "etag": hashlib.md5(data).hexdigest(),
                   "checksums": {"sha256": hashlib.sha256(data).hexdigest(),
                                 "md5": hashlib.md5(data).hexdigest()},
                   "metadata": {},
                   "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                               time.gmtime(time.time() + 86400)),
                   "urls": {"get": "%s/v1/files/%s" % (fake.cfg["files_url_base"]
                                                        or fake.base, fid)}}
            fake.files[fid] = obj
            fake.file_heads[fid] = data[:4]
            if is_safetensors(data):
                fake.file_loras.add(fid)
            s = fake.stats
            s["uploaded"].append({"id": fid, "name": name, "content_type": ctype,
                                  "size": len(data), "key": key,
                                  "sha256": obj["checksums"]["sha256"],
                                  "url": obj["urls"]["get"]})
            s["uploads"] += 1
            s["upload_bytes"] += len(data)
            s["uploads_by_key"][str(key)] = s["uploads_by_key"].get(str(key), 0) + 1
        return self._send(201, obj)

    def _h_file_object(self, fid):
        fake = self.server.fake
        with fake.lock:
            obj = fake.files.get(fid)
        if obj is None:
            return self._send(404, problem(404, "Not found",
                                           "The requested resource could not be found."))
        return self._send(200, obj)

    def _h_stats(self):
        fake = self.server.fake
        with fake.lock:
            d = json.loads(json.dumps(fake.stats))
            d["inflight"] = fake.inflight(time.monotonic())
        if "1" not in self.query.get("bodies", []):
            del d["bodies"]
        return self._send(200, d)

    def _h_control(self):
        fake = self.server.fake
        if self.command == "GET":
            with fake.lock:
                return self._send(200, dict(fake.cfg))
        try:
            req = json.loads(self.body.decode() or "{}")
            if not isinstance(req, dict):
                raise ValueError("must be an object")
            with fake.lock:
                new = dict(fake.cfg)
                for k, v in req.items():
                    if k in ("reset", "reset_stats", "release_ms"):
                        continue
                    if k not in SETTINGS:
                        raise ValueError("unknown setting '%s'" % k)
                    new[k] = SETTINGS[k][1](v)
                fake.cfg = new
                if req.get("reset"):
                    fake.reset()
                elif req.get("reset_stats"):
                    fake.reset_stats()
                if "release_ms" in req:
                    now = time.monotonic()
                    for p in fake.preds.values():
                        if p.t_done > now:
                            p.t_done = now + _nonneg(req["release_ms"]) / 1000.0
                            p.t_start = min(p.t_start, p.t_done)
                cfg = dict(fake.cfg)
        except (ValueError, TypeError, UnicodeDecodeError) as e:
            return self._send(400, {"detail": str(e)})
        return self._send(200, cfg)


def _multipart_content(ctype, body):
    """(filename, content type, bytes) of the part named "content" of a
    multipart/form-data body, or None."""
    if not ctype.lower().startswith("multipart/form-data") or "boundary=" not in ctype:
        return None
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body)
    if not msg.is_multipart():
        return None
    for part in msg.iter_parts():
        if part.get_param("name", header="content-disposition") == "content":
            name = part.get_filename()
            data = part.get_payload(decode=True)
            if name and data is not None:
                return name, part.get_content_type(), data
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--key", default="test-token")
    ap.add_argument("--log")
    for name, (default, _) in SETTINGS.items():
        ap.add_argument("--" + name.replace("_", "-"), dest=name,
                        default=default)
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    settings = {k: getattr(a, k) for k in SETTINGS}
    try:
        fake = Fake(port=a.port, key=a.key, log_path=a.log, **settings)
    except ValueError as e:
        print("replicate_fake: %s" % e, file=sys.stderr)
        return 2
    return serve(fake)


if __name__ == "__main__":
    sys.exit(main())
