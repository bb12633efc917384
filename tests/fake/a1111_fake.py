#!/usr/bin/env python3
"""Fake AUTOMATIC1111 / Forge web UI API for loramake's integration tests.

Python 3 standard library only; modelled on replicate_fake.py beside it.
It follows /work/shared/ENGINES.md section 5:

  POST /sdapi/v1/txt2img     a generation: {"images": [base64 PNG],
  POST /sdapi/v1/img2img       "parameters": the request, "info": JSON text}
  POST /sdapi/v1/interrupt   stop the running generation: {}
  GET  /sdapi/v1/progress    {progress, eta_relative, state, ...}
  GET  /sdapi/v1/sd-models   the checkpoints it knows
  GET|POST /_control         read or change settings
  GET  /_stats[?bodies=1]    the ledger the tests read

Generations are serialised by one lock, as the real server's queue_lock:
a request waits for the one before it.  Each takes job_ms, or, with hold
set, until /_control release or /sdapi/v1/interrupt; an interrupted one
answers 200 with its unfinished image, as A1111 does.

Errors as the real server gives them (api_middleware's shape, or
FastAPI's): --auth USER:PASS makes every /sdapi call need HTTP basic
auth (401 {"detail": "Incorrect username or password"} and
WWW-Authenticate: Basic); a field of the wrong type is pydantic's 422
{"detail": [{loc, msg, type}]}; an unknown sampler 404 "Sampler not
found"; img2img without init_images 404 "Init image not found"; an init
image that is not base64 500 "Invalid encoded image"; an unknown
checkpoint in override_settings 500 (fail_model); fail_500 makes a
generation end in CUDA's out of memory (500).
"""

import base64
import binascii
import hashlib
import json
import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fal_server import make_png  # noqa: E402  (the same PNGs)
from fakelib import (arg_parser, boolean, control, count, prob,  # noqa: E402
                     serve, shorten)


SETTINGS = {
    "job_ms": (100, count),       # one generation
    "hold": (False, boolean),        # generations wait for release/interrupt
    "fail_500": (0.0, prob),      # P(a generation runs out of memory)
    "image_size": (64, count),
    "seed": (1, int),
}

SAMPLERS = ["Euler", "Euler a", "DPM++ 2M", "DPM++ 2M Karras", "DDIM", "UniPC"]
MODELS = ["sd_xl_base_1.0", "juggernautXL_v9", "flux1-dev-fp8"]

# pydantic's field types of StableDiffusionProcessing*, those the tests use
FIELD_TYPES = {
    "prompt": str, "negative_prompt": str, "seed": int, "steps": int,
    "cfg_scale": (int, float), "width": int, "height": int,
    "sampler_name": str, "batch_size": int, "n_iter": int,
    "denoising_strength": (int, float), "init_images": list,
    "override_settings": dict, "send_images": bool, "save_images": bool,
    "scheduler": str, "styles": list,
}
TYPE_NAMES = {str: "str", int: "integer", (int, float): "float",
              list: "list", dict: "dict", bool: "bool"}


class Fake:
    def __init__(self, port=0, auth=None, log_path=None, **settings):
        self.auth = auth
        self.lock = threading.Lock()
        self.gpu = threading.Lock()           # the server's queue_lock
        self.wake = threading.Condition(self.lock)
        self.log_file = open(log_path, "a") if log_path else None
        self.cfg = {k: d for k, (d, _) in SETTINGS.items()}
        for k, v in settings.items():
            self.cfg[k] = SETTINGS[k][1](v)
        self.server = Server(("127.0.0.1", port), Handler)
        self.server.fake = self
        self.port = self.server.server_address[1]
        self.reset()

    def reset(self):
        self.rng = random.Random(self.cfg["seed"])
        self.running = None      # the generation holding the GPU
        self.released = 0        # release generation counter
        self.reset_stats()

    def reset_stats(self):
        self.stats = {
            "submits_total": 0, "submits_by_key": {}, "by_endpoint": {},
            "bodies": [], "generated": 0, "interrupts": 0, "interrupted": 0,
            "waiting": 0, "generating": 0, "max_generating": 0,
            "max_at_once": 0, "auth_failures": 0, "by_status": {},
            "errors": [],
        }

    def log(self, line):
        if self.log_file:
            with self.lock:
                self.log_file.write(line + "\n")
                self.log_file.flush()

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


class Server(ThreadingHTTPServer):
    request_queue_size = 64
    daemon_threads = True


def http_error(status, detail, exc="HTTPException", errors=""):
    """api_middleware's error object (ENGINES.md 5.2)."""
    return status, {"error": exc, "detail": detail, "body": "",
                    "errors": errors or detail}


def validation_error(loc, msg, typ):
    """FastAPI's request validation error (422)."""
    return 422, {"detail": [{"loc": ["body"] + loc, "msg": msg, "type": typ}]}


def type_ok(v, t):
    """pydantic's (v1) coercion, as far as JSON goes."""
    if t is bool:
        return isinstance(v, bool)
    if isinstance(v, bool):
        return False
    if t is int:
        return isinstance(v, int) or (isinstance(v, float) and v.is_integer())
    return isinstance(v, t)


def check_types(body):
    for k, t in FIELD_TYPES.items():
        if body.get(k) is not None and not type_ok(body[k], t):
            name = TYPE_NAMES[t]
            return validation_error([k], "value is not a valid %s" % name,
                                    "type_error.%s" % name)
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-a1111/1"

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, body, headers=None):
        fake = self.server.fake
        data = json.dumps(body).encode()
        with fake.lock:
            if not self.path.startswith("/_"):
                bs = fake.stats["by_status"]
                bs[str(code)] = bs.get(str(code), 0) + 1
        fake.log("%s %s %d" % (self.command, urlsplit(self.path).path, code))
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        try:
            return json.loads(raw.decode() or "{}")
        except (UnicodeDecodeError, ValueError):
            return None

    def _authorised(self):
        fake = self.server.fake
        if not fake.auth:
            return True
        want = "Basic " + base64.b64encode(fake.auth.encode()).decode()
        if self.headers.get("Authorization", "") == want:
            return True
        with fake.lock:
            fake.stats["auth_failures"] += 1
        self._send(401, {"detail": "Incorrect username or password"},
                   {"WWW-Authenticate": "Basic"})
        return False

    def do_GET(self):
        url = urlsplit(self.path)
        fake = self.server.fake
        if url.path == "/_stats":
            with fake.lock:
                d = json.loads(json.dumps(fake.stats))
            if "1" not in parse_qs(url.query).get("bodies", []):
                del d["bodies"]
            return self._send(200, d)
        if url.path == "/_control":
            with fake.lock:
                return self._send(200, dict(fake.cfg))
        if not self._authorised():
            return
        if url.path == "/sdapi/v1/progress":
            with fake.lock:
                busy = fake.running is not None
            return self._send(200, {"progress": 0.5 if busy else 0.0,
                                    "eta_relative": 0.0, "state": {
                                        "interrupted": False, "job_count": int(busy)},
                                    "current_image": None, "textinfo": None})
        if url.path == "/sdapi/v1/sd-models":
            return self._send(200, [{"title": m, "model_name": m} for m in MODELS])
        return self._send(404, {"detail": "Not Found"})

    def do_POST(self):
        url = urlsplit(self.path)
        fake = self.server.fake
        body = self._body()
        if url.path == "/_control":
            return self._control(body)
        if not self._authorised():
            return
        if url.path == "/sdapi/v1/interrupt":
            with fake.lock:
                fake.stats["interrupts"] += 1
                if fake.running is not None:
                    fake.running["interrupted"] = True
                    fake.wake.notify_all()
            return self._send(200, {})
        if url.path in ("/sdapi/v1/txt2img", "/sdapi/v1/img2img"):
            return self._generate(url.path.rsplit("/", 1)[1], body)
        return self._send(404, {"detail": "Not Found"})

    def _refuse(self, status, body):
        with self.server.fake.lock:
            self.server.fake.stats["errors"].append(
                {"status": status, "body": body})
        return self._send(status, body)

    def _generate(self, endpoint, body):
        fake = self.server.fake
        key = self.headers.get("X-Loramake-Key")
        with fake.lock:
            s = fake.stats
            s["submits_total"] += 1
            s["by_endpoint"][endpoint] = s["by_endpoint"].get(endpoint, 0) + 1
            if key:
                s["submits_by_key"][key] = s["submits_by_key"].get(key, 0) + 1
            s["bodies"].append({"endpoint": endpoint, "key": key,
                                "body": shorten(body)})
        if not isinstance(body, dict):
            return self._refuse(*validation_error([], "value is not a valid dict",
                                                  "type_error.dict"))
        bad = check_types(body)
        if bad:
            return self._refuse(*bad)
        sampler = body.get("sampler_name") or body.get("sampler_index") or "Euler"
        if sampler not in SAMPLERS:
            return self._refuse(*http_error(404, "Sampler not found"))
        model = (body.get("override_settings") or {}).get("sd_model_checkpoint")
        if model is not None and model not in MODELS:
            return self._refuse(*http_error(
                500, "", "RuntimeError",
                "model '%s' not found among the checkpoints" % model))
        if endpoint == "img2img":
            init = body.get("init_images") or []
            if not init:
                return self._refuse(*http_error(404, "Init image not found"))
            for im in init:
                if not isinstance(im, str) or not _decodes(im):
                    return self._refuse(*http_error(500, "Invalid encoded image"))
        with fake.lock:
            fake.stats["waiting"] += 1  # this one and those behind it
            fake.stats["max_at_once"] = max(fake.stats["max_at_once"],
                                            fake.stats["waiting"])
        with fake.gpu:  # one generation at a time, as the real queue_lock
            with fake.lock:
                fake.stats["waiting"] -= 1
                job = {"interrupted": False, "release": fake.released}
                fake.running = job
                fake.stats["generating"] += 1
                fake.stats["max_generating"] = max(fake.stats["max_generating"],
                                                   fake.stats["generating"])
                fails = fake.rng.random() < fake.cfg["fail_500"]
                deadline = time.monotonic() + fake.cfg["job_ms"] / 1000.0
                while not job["interrupted"]:
                    if fake.cfg["hold"]:
                        if fake.released != job["release"]:
                            break
                        fake.wake.wait(0.5)
                        continue
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    fake.wake.wait(left)
                fake.running = None
                fake.stats["generating"] -= 1
                if job["interrupted"]:
                    fake.stats["interrupted"] += 1
                elif not fails:
                    fake.stats["generated"] += 1
        if fails:
            return self._refuse(*http_error(
                500, "", "OutOfMemoryError",
                "CUDA out of memory. Tried to allocate 2.00 GiB"))
        seed = body.get("seed", -1)
        if seed == -1:
            seed = fake.rng.getrandbits(32)
        n = fake.cfg["image_size"]
        digest = hashlib.sha256(json.dumps([endpoint, body.get("prompt"), seed],
                                           sort_keys=True).encode()).digest()
        png = make_png(n, n, digest)
        info = {"prompt": body.get("prompt", ""), "all_prompts": [body.get("prompt", "")],
                "negative_prompt": body.get("negative_prompt", ""), "seed": seed,
                "all_seeds": [seed], "width": n, "height": n,
                "sampler_name": sampler, "steps": body.get("steps", 50),
                "cfg_scale": body.get("cfg_scale", 7.0),
                "denoising_strength": body.get("denoising_strength"),
                "sd_model_name": model or MODELS[0]}
        params = dict(body)
        if endpoint == "img2img" and not body.get("include_init_images"):
            params["init_images"] = None
        return self._send(200, {"images": [base64.b64encode(png).decode()],
                                "parameters": shorten(params),
                                "info": json.dumps(info)})

    def _control(self, req):
        try:
            cfg = control(self.server.fake, SETTINGS, req)
        except (ValueError, TypeError) as e:
            return self._send(400, {"detail": str(e)})
        return self._send(200, cfg)


def _decodes(s):
    if s.startswith("data:"):
        s = s.split(",", 1)[-1]
    try:
        base64.b64decode(s, validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


def main(argv=None):
    ap = arg_parser(__doc__, SETTINGS)
    ap.add_argument("--auth", help="USER:PASS, as the server's --api-auth")
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    settings = {k: getattr(a, k) for k in SETTINGS}
    try:
        fake = Fake(port=a.port, auth=a.auth, log_path=a.log, **settings)
    except ValueError as e:
        print("a1111_fake: %s" % e, file=sys.stderr)
        return 2
    return serve(fake)


if __name__ == "__main__":
    sys.exit(main())
