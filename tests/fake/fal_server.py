#!/usr/bin/env python3
"""Fake fal.ai queue server for loramake's integration tests.

Python 3 standard library only.  It follows /work/shared/ENGINES.md section 1:

  POST /{owner}/{alias}[/{path}]                 submit (full endpoint id)
  GET  /{owner}/{alias}/requests/{id}/status     202 while queued/running, 200 done
  GET  /{owner}/{alias}/requests/{id}            result (replays the model answer)
  PUT  /{owner}/{alias}/requests/{id}/cancel     cancel
  POST /storage/upload/initiate[-multipart]      upload flow A (JS client)
  POST /storage/auth/token, POST /files/upload   upload flow B (Python client)
  GET  /files/{name}                             generated PNGs and uploads (no auth)
  GET|POST /_control                             read or change fault settings
  GET  /_stats[?bodies=1]                        accounting for the tests

Follow-up URLs (status/result/cancel) use owner/alias only, never the
endpoint's sub-path (ENGINES.md 1.3); a follow-up that uses the full path
gets 404, which catches clients that build the URLs wrongly.

Run "python3 fal_server.py --help" for the flags; docs/fake-fal.md has more.
"""

import argparse
import base64
import binascii
import hashlib
import json
import math
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

# --------------------------------------------------------------------------
# Settings that /_control may change.  Each entry: default, parser.


def _prob(v):
    v = float(v)
    if not 0.0 <= v <= 1.0:
        raise ValueError("must be between 0 and 1")
    return v


def _nonneg_int(v):
    if isinstance(v, bool):
        raise ValueError("must be an integer")
    f = float(v)
    if f < 0 or f != int(f):
        raise ValueError("must be a non-negative integer")
    return int(f)


def _nonneg_num(v):
    if isinstance(v, bool):
        raise ValueError("must be a number")
    v = float(v)
    if v < 0:
        raise ValueError("must be >= 0")
    return v


def _int(v):
    if isinstance(v, bool):
        raise ValueError("must be an integer")
    return int(v)


def _bool(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return bool(v)
    s = str(v).strip().lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be a boolean")


FAIL_KINDS = ("500", "503", "503_nginx")


def _str(v):
    if not isinstance(v, str):
        raise ValueError("must be a string")
    return v


def _fail_kinds(v):
    if isinstance(v, str):
        v = [x for x in v.split(",") if x.strip()]
    kinds = [str(x).strip() for x in v]
    if not kinds or any(k not in FAIL_KINDS for k in kinds):
        raise ValueError("must be a non-empty list of " + ", ".join(FAIL_KINDS))
    return kinds


def _image_size(v):
    if isinstance(v, (list, tuple)) and len(v) == 2:
        w, h = v
    elif isinstance(v, int) and not isinstance(v, bool):
        w = h = v
    else:
        m = re.fullmatch(r"\s*(\d+)\s*(?:[xX]\s*(\d+))?\s*", str(v))
        if not m:
            raise ValueError("must be N or WxH")
        w = m.group(1)
        h = m.group(2) or w
    w, h = int(w), int(h)
    if not (1 <= w <= 4096 and 1 <= h <= 4096):
        raise ValueError("sides must be 1..4096")
    return [w, h]


SETTINGS = {
    # name: (default, parser)
    "fail_500": (0.0, _prob),          # P(submit/status/result answers 5xx)
    "fail_kinds": (list(FAIL_KINDS), _fail_kinds),
    "drop": (0.0, _prob),              # P(connection closed mid-body)
    "truncate": (0.0, _prob),          # P(served file cut short)
    "burst_429": (0, _nonneg_int),     # next N API requests answer 429
    "retry_after": (1, _nonneg_num),   # Retry-After seconds on those 429s
    "submit_rate": (0, _nonneg_num),   # submits a second (a token bucket of
                                       # as many); over it: 429; 0: no limit
    "slow_ms": (0, _nonneg_int),       # extra delay before every answer
    "job_ms": (200, _nonneg_int),      # submit -> COMPLETED
    "train_ms": (300, _nonneg_int),    # a trainer's submit -> COMPLETED
    "train_log": ("", _str),           # a trainer's last log line, after
                                       # "step N/STEPS" (any bytes)
    "queue_ms": (0, _nonneg_int),      # first part of job_ms spent IN_QUEUE
    "job_fail": (0.0, _prob),          # P(a job ends with a model error)
    "validate_at_submit": (False, _bool),  # 422 on submit instead of on result
    "image_size": ([64, 64], _image_size),
    "seed": (1, _int),
    # hostile modes: a server that tries to turn the client against its user
    "urls_base": ("", _str),           # base of the follow-up URLs answered
    "request_id": ("", _str),          # the request id every submit answers
    "fail_detail": ("", _str),         # detail of failed jobs; {headers}: the
                                       # submit's request headers, echoed
    "redirect_submit": ("", _str),     # submits answer 307 to this URL
    "redirect_files": ("", _str),      # files answer 302 to this base + path
    "trickle_files": (0, _nonneg_int), # next N files dribble 1 byte / 200 ms
    "big_files": (0, _nonneg_int),     # files announce and send N bytes
    "refuse_uploads": (0, _nonneg_int),  # next N upload initiates: 400
}

# --------------------------------------------------------------------------
# PNG generation (deterministic: the bytes are a function of the file name).

PNG_SIG = b"\x89PNG\r\n\x1a\n"


def _png_chunk(ctype, data):
    return (struct.pack(">I", len(data)) + ctype + data +
            struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF))


def make_png(width, height, digest):
    """An RGB PNG: vertical gradient over a colour and a rectangle, all
    chosen from digest (>= 12 bytes)."""
    bg, fg = digest[0:3], bytes(digest[3:6])
    rx = digest[6] % max(1, width // 2)
    ry = digest[7] % max(1, height // 2)
    rw = max(1, width // 4 + digest[8] % max(1, width // 4))
    rh = max(1, height // 4 + digest[9] % max(1, height // 4))
    span = min(rw, width - rx)
    rows = []
    for y in range(height):
        shade = (y * 96) // max(1, height - 1)
        px = bytes(((bg[0] + shade) & 255, (bg[1] + shade // 2) & 255, bg[2]))
        row = bytearray(px * width)
        if ry <= y < ry + rh:
            row[rx * 3:(rx + span) * 3] = fg * span
        rows.append(b"\x00" + bytes(row))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (PNG_SIG + _png_chunk(b"IHDR", ihdr) +
            _png_chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) +
            _png_chunk(b"IEND", b""))


PNG_NAME = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"-(\d+)-(\d+)x(\d+)-([0-9a-f]{12})\.png$")

# --------------------------------------------------------------------------
# Endpoint schemas (ENGINES.md 1.13).  Ranges marked UNCONFIRMED there are
# left out on purpose, except strength which the brief fixes at 0..1.

ASPECT_ULTRA = ["21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"]
ASPECT_NANO = ["auto", "21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5",
               "3:4", "2:3", "9:16"]
TOLERANCE = ["1", "2", "3", "4", "5", "6"]

_MULTI_ANGLE_GALLERY = {
    "output": "images", "required": ["image_urls"],
    "ranges": {"move_forward": (0, 10), "vertical_angle": (-1, 1),
               "guidance_scale": (0, 20)},
}

SPECS = {
    "fal-ai/flux-pro/v1.1-ultra": {
        "output": "images", "required": ["prompt"],
        "ranges": {"image_prompt_strength": (0, 1)},
        "ints": {"num_images": (1, 4)},
        "enums": {"aspect_ratio": ASPECT_ULTRA, "safety_tolerance": TOLERANCE,
                  "output_format": ["jpeg", "png"]},
    },
    "fal-ai/flux/dev/image-to-image": {
        "output": "images", "required": ["image_url", "prompt"],
        "ranges": {"strength": (0, 1)},
        "ints": {"num_images": (1, 4)},
        "enums": {"output_format": ["jpeg", "png"],
                  "acceleration": ["none", "regular", "high"]},
    },
    "fal-ai/qwen-image-edit-2511-multiple-angles": {
        "output": "images", "required": ["image_urls"],
        "ranges": {"horizontal_angle": (0, 360), "vertical_angle": (-30, 90),
                   "zoom": (0, 10)},
        "enums": {"output_format": ["png", "jpeg", "webp"],
                  "acceleration": ["none", "regular"]},
    },
    "fal-ai/qwen-image-edit-2509-lora-gallery/multiple-angles": _MULTI_ANGLE_GALLERY,
    "fal-ai/qwen-image-edit-plus-lora-gallery/multiple-angles": _MULTI_ANGLE_GALLERY,
    "fal-ai/flux-2-lora-gallery/multiple-angles": {
        "output": "images", "required": ["image_urls"],
        "ranges": {"horizontal_angle": (0, 360), "vertical_angle": (0, 60)},
    },
    "fal-ai/nano-banana-pro/edit": {
        "output": "images", "required": ["prompt", "image_urls"],
        "ints": {"num_images": (1, 4)}, "description": True,
        "enums": {"aspect_ratio": ASPECT_NANO, "resolution": ["1K", "2K", "4K"],
                  "output_format": ["jpeg", "png", "webp"],
                  "safety_tolerance": TOLERANCE},
    },
    "fal-ai/nano-banana-pro": {
        "output": "images", "required": ["prompt"],
        "ints": {"num_images": (1, 4)}, "description": True,
        "enums": {"resolution": ["1K", "2K", "4K"],
                  "output_format": ["jpeg", "png", "webp"]},
    },
    "fal-ai/seedvr/upscale/image": {
        "output": "image", "required": ["image_url"],
        "ranges": {"upscale_factor": (1, 10)},
        "enums": {"upscale_mode": ["target", "factor"],
                  "target_resolution": ["720p", "1080p", "1440p", "2160p"],
                  "output_format": ["png", "jpg", "webp"]},
    },
    # text to image with LoRAs: loras [{path, scale}], each path a LoRA
    # file this server has (uploaded here: a safetensors frame)
    "fal-ai/flux-lora": {
        "output": "images", "required": ["prompt"], "loras": True,
        "ints": {"num_images": (1, 4)},
        "enums": {"output_format": ["jpeg", "png"]},
    },
    # trainers (TRAINERS.md 1.7): a ZIP's URL in, a LoRA file out, after
    # train_ms; the archive must be a file this server has and a ZIP
    "fal-ai/flux-lora-fast-training": {
        "output": "training", "required": ["images_data_url"],
        "urls": ["images_data_url"], "zips": ["images_data_url"],
        "ints": {"steps": (1, 10000)},
    },
    "fal-ai/flux-2-trainer": {
        "output": "training", "required": ["image_data_url"],
        "urls": ["image_data_url"], "zips": ["image_data_url"],
        "ints": {"steps": (1, 10000)}, "ranges": {"learning_rate": (0, 1)},
    },
    "fal-ai/z-image-trainer": {
        "output": "training", "required": ["image_data_url"],
        "urls": ["image_data_url"], "zips": ["image_data_url"],
        "ints": {"steps": (1, 10000)}, "ranges": {"learning_rate": (0, 1)},
    },
    # fal-js Wan22ImageTrainerInput/Output: trigger_phrase is required,
    # and it makes two LoRA files, one for each expert of WAN 2.2
    "fal-ai/wan-22-image-trainer": {
        "output": "training", "experts": True,
        "required": ["training_data_url", "trigger_phrase"],
        "urls": ["training_data_url"], "zips": ["training_data_url"],
        "ints": {"steps": (1, 10000)}, "ranges": {"learning_rate": (0, 1)},
        "bools": ["use_masks", "use_face_detection", "use_face_cropping",
                  "is_style", "include_synthetic_captions"],
    },
    # WanLoRAT2IRequest: loras [{path, scale, transformer}], one image
    "fal-ai/wan/v2.2-a14b/text-to-image/lora": {
        "output": "image", "required": ["prompt"], "loras": True,
        "experts": True, "enums": {"image_format": ["png", "jpeg"]},
    },
}


def safetensors_blob(name):
    """A small but well-formed safetensors file: 8-byte little-endian
    header length, a JSON header, the tensors' bytes."""
    data = hashlib.sha256(name.encode()).digest()[:16]
    header = json.dumps({
        "__metadata__": {"format": "pt", "fake": name},
        "lora_unet_a.lora_down.weight": {"dtype": "F32", "shape": [2, 2],
                                         "data_offsets": [0, 16]},
    }, sort_keys=True).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + data


def spec_for(endpoint):
    """Schema of a known endpoint, or one guessed from the id."""
    if endpoint in SPECS:
        return SPECS[endpoint]
    e = endpoint.lower()
    if "upscale" in e:
        return {"output": "image", "required": ["image_url"]}
    if "edit" in e or "image-to-image" in e:
        req = ["prompt", "image_url"] if "image-to-image" in e else ["prompt", "image_url|image_urls"]
        return {"output": "images", "required": req}
    return {"output": "images", "required": ["prompt"]}


CONTENT_POLICY_MSG = ("The content could not be processed because it contained "
                      "material flagged by a content checker.")


def _enum_text(values):
    q = ["'%s'" % v for v in values]
    return q[0] if len(q) == 1 else ", ".join(q[:-1]) + " or " + q[-1]


# --------------------------------------------------------------------------


class Job:
    __slots__ = ("id", "fid", "seq", "endpoint", "app", "body", "key", "t_submit",
                 "t_start", "t_done", "cancelled", "code", "answer", "extra")

    def state(self, now):
        if now >= self.t_done:
            return "COMPLETED"
        if now >= self.t_start:
            return "IN_PROGRESS"
        return "IN_QUEUE"


class FakeFal:
    """The fake service.  Thread-safe; one instance per server."""

    def __init__(self, port=0, key="test-key", log_path=None, **settings):
        self.key = key
        self.lock = threading.RLock()
        self.cfg = {k: (list(d) if isinstance(d, list) else d)
                    for k, (d, _) in SETTINGS.items()}
        self.set(settings)
        self.streams = {}   # kind of request -> its random.Random
        self.id_rng = random.Random("ids-%d" % self.cfg["seed"])
        self.log_file = open(log_path, "a", buffering=1) if log_path else None
        self.log_lock = threading.Lock()
        self._reset_state()
        self.httpd = Server(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        self.thread = None

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread:
            self.thread.join(5)
        with self.log_lock:
            if self.log_file:
                self.log_file.close()
                self.log_file = None

    # -- settings ----------------------------------------------------------

    def set(self, changes):
        """Validate then apply settings; raises ValueError naming the key."""
        parsed = {}
        for k, v in changes.items():
            if k not in SETTINGS:
                raise ValueError("unknown setting %r" % k)
            try:
                parsed[k] = SETTINGS[k][1](v)
            except (TypeError, ValueError) as e:
                raise ValueError("%s: %s" % (k, e))
        self.cfg.update(parsed)
        if "seed" in parsed and hasattr(self, "streams"):
            self.streams.clear()
            self.id_rng.seed("ids-%d" % parsed["seed"])
        return parsed

    def _reset_state(self):
        self.jobs = {}
        self.active = []        # jobs not yet known to be done, submit order
        self.tokens = None      # submit_rate's bucket (None: full)
        self.t_tokens = 0.0
        self.seq = 0
        self.blobs = {}         # file name -> (content_type, bytes)
        self.uploads = {}       # upload token -> pending upload
        self.cdn_tokens = set()
        self.stats = {
            "requests_by_kind": {},
            "submits_total": 0,
            "submits_by_endpoint": {},
            "submits_by_key": {},
            "submits_without_key": 0,
            "submitted": [],
            "rejected_submits": 0,
            "status_polls": 0,
            "results": 0,
            "cancels": 0,
            "cancels_effective": 0,
            "files_served": 0,
            "uploads": 0,
            "refused_uploads": 0,
            "max_inflight": 0,
            "by_status": {},
            "errors_4xx": 0,
            "errors_5xx": 0,
            "auth_failures": 0,
            "faults": {"burst_429": 0, "rate_429": 0, "fail": 0, "drop": 0,
                       "truncate": 0, "job_fail": 0},
        }

    # -- helpers used by the handler (call with self.lock held) -------------

    def draws(self, stream):
        """Five uniform numbers per faultable request, always five, from a
        stream of their own per kind of request ("file" downloads, "api"
        calls), so a seed fixes how many of the first N of a kind get a
        fault, however the kinds interleave (which they do by timing)."""
        r = self.streams.get(stream)
        if r is None:
            r = self.streams[stream] = random.Random(
                "%s:%s" % (self.cfg["seed"], stream))
        return [r.random() for _ in range(5)]

    def over_rate(self, now):
        """Is a submit now over submit_rate? Takes a token if not."""
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

    def new_id(self):
        return str(uuid.UUID(int=self.id_rng.getrandbits(128), version=4))

    def release(self, now, ms):
        """Every job not yet done finishes MS from now (job_ms, for jobs
        submitted later, is unchanged): a test holds jobs in flight with a
        long job_ms, then lets those it has seen finish."""
        for j in self.active:
            if j.t_done > now and not j.cancelled:
                j.t_done = now + ms / 1000.0
                j.t_start = min(j.t_start, j.t_done)

    def inflight(self, now):
        self.active = [j for j in self.active if j.t_done > now]
        return len(self.active)

    def queue_position(self, job, now):
        return sum(1 for j in self.active
                   if j.seq < job.seq and j.t_start > now and j.t_done > now)

    def urls(self, job):
        base = "%s/%s/requests/%s" % (self.cfg["urls_base"] or self.base,
                                      job.app, quote(job.id, safe=""))
        return {"response_url": base, "status_url": base + "/status",
                "cancel_url": base + "/cancel"}

    def record_status(self, code):
        bs = self.stats["by_status"]
        bs[str(code)] = bs.get(str(code), 0) + 1
        if 400 <= code < 500:
            self.stats["errors_4xx"] += 1
        elif code >= 500:
            self.stats["errors_5xx"] += 1

    def log(self, line):
        with self.log_lock:
            if self.log_file:
                self.log_file.write(line + "\n")

    def file_exists(self, name):
        return name in self.blobs or PNG_NAME.match(name) is not None

    # -- validation ----------------------------------------------------------

    def validate(self, endpoint, body):
        """Pydantic-v2 shaped error list (empty when the body is valid)."""
        spec = spec_for(endpoint)
        errs = []

        def err(field, typ, msg, value, ctx=None):
            e = {"type": typ, "loc": ["body", field], "msg": msg, "input": value}
            if ctx is not None:
                e["ctx"] = ctx
            errs.append(e)

        for field in spec.get("required", ()):
            alts = field.split("|")
            if not any(a in body for a in alts):
                err(alts[0], "missing", "Field required", body)
        for field in ("prompt", "additional_prompt", "negative_prompt"):
            if field in body and not isinstance(body[field], str):
                err(field, "string_type", "Input should be a valid string", body[field])
        ranges = dict(spec.get("ranges", {}))
        ranges.setdefault("strength", (0, 1))
        for field, (lo, hi) in ranges.items():
            if field not in body:
                continue
            v = body[field]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                err(field, "float_type", "Input should be a valid number", v)
            elif v < lo:
                err(field, "greater_than_equal",
                    "Input should be greater than or equal to %s" % lo, v, {"ge": lo})
            elif v > hi:
                err(field, "less_than_equal",
                    "Input should be less than or equal to %s" % hi, v, {"le": hi})
        for field, (lo, hi) in spec.get("ints", {}).items():
            if field not in body:
                continue
            v = body[field]
            if isinstance(v, bool) or not isinstance(v, int):
                err(field, "int_type", "Input should be a valid integer", v)
            elif v < lo:
                err(field, "greater_than_equal",
                    "Input should be greater than or equal to %s" % lo, v, {"ge": lo})
            elif v > hi:
                err(field, "less_than_equal",
                    "Input should be less than or equal to %s" % hi, v, {"le": hi})
        for field in spec.get("bools", ()):
            if field in body and not isinstance(body[field], bool):
                err(field, "bool_type", "Input should be a valid boolean", body[field])
        for field, values in spec.get("enums", {}).items():
            if field in body and body[field] not in values:
                err(field, "literal_error", "Input should be " + _enum_text(values),
                    body[field], {"expected": _enum_text(values)})
        if "image_urls" in body:
            v = body["image_urls"]
            if not isinstance(v, list):
                err("image_urls", "list_type", "Input should be a valid list", v)
            elif not v:
                err("image_urls", "too_short",
                    "List should have at least 1 item after validation, not 0", v,
                    {"field_type": "List", "min_length": 1, "actual_length": 0})
            else:
                for i, u in enumerate(v):
                    self._check_url(errs, ["body", "image_urls", i], u)
        for field in ["image_url"] + spec.get("urls", []):
            if field in body:
                self._check_url(errs, ["body", field], body[field])
        for field in spec.get("zips", []):
            if field in body and not errs:
                self._check_zip(errs, ["body", field], body[field])
        if spec.get("loras") and "loras" in body:
            self._check_loras(errs, body["loras"], spec.get("experts"))
        if not errs:
            for field in ("prompt", "additional_prompt"):
                v = body.get(field)
                if isinstance(v, str) and "FORBIDDEN" in v:
                    errs.append({
                        "loc": ["body", field], "msg": CONTENT_POLICY_MSG,
                        "type": "content_policy_violation",
                        "url": "https://docs.fal.ai/errors#content_policy_violation",
                        "input": v})
                    break
        return errs

    def _check_url(self, errs, loc, u):
        """Strings only; data URIs must decode; URLs into this server must
        name a file it has (catches uploads that never happened)."""
        if not isinstance(u, str):
            errs.append({"type": "string_type", "loc": loc,
                         "msg": "Input should be a valid string", "input": u})
            return
        bad = None
        if u.startswith("data:"):
            head, sep, payload = u.partition(",")
            if not sep or not head.endswith(";base64"):
                bad = "Invalid data URI"
            else:
                try:
                    base64.b64decode(payload, validate=True)
                except (binascii.Error, ValueError):
                    bad = "Invalid base64 in data URI"
        elif u.startswith(self.base + "/files/"):
            name = unquote(urlsplit(u).path[len("/files/"):])
            if not self.file_exists(name):
                bad = "Failed to download the file. Please check if the URL is accessible."
        elif not (u.startswith("https://") or u.startswith("http://")):
            bad = "Invalid URL"
        if bad:
            errs.append({"loc": loc, "msg": bad, "type": "file_download_error",
                         "url": "https://docs.fal.ai/errors#file_download_error",
                         "input": u})

    def _check_zip(self, errs, loc, u):
        """A trainer's archive, when it is a file of this server (one
        elsewhere cannot be looked at): uploaded here, and a ZIP."""
        if not (isinstance(u, str) and u.startswith(self.base + "/files/")):
            return
        name = unquote(urlsplit(u).path[len("/files/"):])
        blob = self.blobs.get(name)
        if blob is None or not blob[1].startswith(b"PK\x03\x04"):
            errs.append({"loc": loc, "msg": "The archive could not be read: "
                         "not a zip file", "type": "invalid_archive",
                         "input": u})

    def _check_loras(self, errs, loras, experts=False):
        """loras: [{path, scale}]: each path a URL; one into this server
        must name a file it has whose bytes are a safetensors frame (an
        8-byte little-endian length, then a JSON object). On a model of
        two experts each may say its transformer: high, low or both."""
        if not isinstance(loras, list):
            errs.append({"type": "list_type", "loc": ["body", "loras"],
                         "msg": "Input should be a valid list", "input": loras})
            return
        for i, l in enumerate(loras):
            loc = ["body", "loras", i]
            if not isinstance(l, dict) or not isinstance(l.get("path"), str):
                errs.append({"type": "missing", "loc": loc + ["path"],
                             "msg": "Field required", "input": l})
                continue
            s = l.get("scale", 1)
            if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0 <= s <= 4:
                errs.append({"type": "float_type", "loc": loc + ["scale"],
                             "msg": "Input should be a number from 0 to 4", "input": s})
            t = l.get("transformer", "both")
            if experts and t not in ("high", "low", "both"):
                errs.append({"type": "literal_error", "loc": loc + ["transformer"],
                             "msg": "Input should be 'high', 'low' or 'both'",
                             "input": t, "ctx": {"expected": "'high', 'low' or 'both'"}})
            elif not experts and "transformer" in l:
                errs.append({"type": "extra_forbidden", "loc": loc + ["transformer"],
                             "msg": "Extra inputs are not permitted", "input": t})
            self._check_url(errs, loc + ["path"], l["path"])
            u = l["path"]
            if errs or not u.startswith(self.base + "/files/"):
                continue
            blob = self.blobs.get(unquote(urlsplit(u).path[len("/files/"):]))
            data = blob[1] if blob else b""
            ok = len(data) >= 10
            if ok:
                n = struct.unpack("<Q", data[:8])[0]
                ok = 8 + n <= len(data) and data[8:9] == b"{"
            if not ok:
                errs.append({"loc": loc + ["path"], "type": "invalid_lora",
                             "msg": "The LoRA file could not be loaded: not a "
                             "safetensors file", "input": u})

    # -- model output ----------------------------------------------------------

    def output(self, job):
        spec = spec_for(job.endpoint)
        body = job.body
        canon = json.dumps([job.endpoint, body], sort_keys=True).encode()
        digest = hashlib.sha256(canon).hexdigest()
        seed = body.get("seed")
        if isinstance(seed, bool) or not isinstance(seed, int):
            # > 2**53 most of the time: clients must parse it as int64
            seed = int(digest[:16], 16) & 0x7FFFFFFFFFFFFFFF
        w, h = self.cfg["image_size"]
        kind = spec["output"]
        if kind == "training":
            lora = "%s-lora.safetensors" % job.id
            conf = "%s-config.json" % job.id
            ldata = safetensors_blob(job.id)
            cdata = json.dumps({"request_id": job.id, "body": body},
                               sort_keys=True).encode()
            self.blobs[lora] = ("application/octet-stream", ldata)
            self.blobs[conf] = ("application/json", cdata)
            out = {
                "diffusers_lora_file": {"url": "%s/files/%s" % (self.base, lora),
                                        "content_type": "application/octet-stream",
                                        "file_name": lora, "file_size": len(ldata)},
                "config_file": {"url": "%s/files/%s" % (self.base, conf),
                                "content_type": "application/json",
                                "file_name": conf, "file_size": len(cdata)},
            }
            if spec.get("experts"):  # the low-noise file is diffusers_lora_file
                high = "%s-high-noise-lora.safetensors" % job.id
                hdata = safetensors_blob(job.id + "-high")
                self.blobs[high] = ("application/octet-stream", hdata)
                out["high_noise_lora"] = {
                    "url": "%s/files/%s" % (self.base, high),
                    "content_type": "application/octet-stream",
                    "file_name": high, "file_size": len(hdata)}
            return out
        n = body.get("num_images", 1) if kind == "images" else 1
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            n = 1
        images = []
        for i in range(n):
            name = "%s-%d-%dx%d-%s.png" % (job.fid, i, w, h, digest[:12])
            images.append({"url": "%s/files/%s" % (self.base, name),
                           "content_type": "image/png", "file_name": name,
                           "file_size": len(png_for(name)),
                           "width": w, "height": h})
        inference = round(max(0, self.cfg["job_ms"] - self.cfg["queue_ms"]) / 1000.0, 3)
        if kind == "image":
            return {"image": images[0], "seed": seed}
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            prompt = "<sks> " + str(body.get("additional_prompt", "")).strip()
        out = {"images": images, "seed": seed, "prompt": prompt,
               "has_nsfw_concepts": [False] * n,
               "timings": {"inference": inference}}
        if spec.get("description"):
            out["description"] = ""
        return out


_png_cache = {}
_png_cache_lock = threading.Lock()


def png_for(name):
    """Bytes of the generated PNG called name (None if name is not one)."""
    m = PNG_NAME.match(name)
    if not m:
        return None
    with _png_cache_lock:
        data = _png_cache.get(name)
    if data is None:
        w, h = int(m.group(3)), int(m.group(4))
        if not (1 <= w <= 4096 and 1 <= h <= 4096):
            return None
        data = make_png(w, h, hashlib.sha256(name.encode()).digest())
        with _png_cache_lock:
            if len(_png_cache) > 512:
                _png_cache.clear()
            _png_cache[name] = data
    return data


def _iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + \
        ".%06d" % int((t % 1) * 1e6)


def _shorten(v):
    """Bodies in /_stats?bodies=1: long strings (data URIs) summarised."""
    if isinstance(v, str) and len(v) > 256:
        return "<%d chars sha256=%s>" % (len(v), hashlib.sha256(v.encode()).hexdigest()[:16])
    if isinstance(v, list):
        return [_shorten(x) for x in v]
    if isinstance(v, dict):
        return {k: _shorten(x) for k, x in v.items()}
    return v


NGINX_503 = (b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title>"
             b"</head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable"
             b"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")

RESERVED_OWNERS = ("files", "storage", "_control", "_stats", "_upload")
API_KINDS = ("submit", "status", "result", "cancel", "storage")


class Server(ThreadingHTTPServer):
    # The default backlog of 5 drops SYNs when a client opens 16+
    # connections at once; each drop costs a 1 s retransmit.
    request_queue_size = 128


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body
    # waits for the client's delayed ACK (40 ms on Linux) on every answer.
    disable_nagle_algorithm = True
    # an answer's headers and body leave in one send (http.server flushes
    # after each request; the fakes flush themselves where they trickle or
    # cut an answer): two sends a request cost a loaded fake ~0.15 ms each
    wbufsize = 1 << 16
    server_version = "fake-fal/1"

    def version_string(self):
        return self.server_version

    # quiet: logging goes to --log only
    def log_message(self, fmt, *args):
        pass

    # -- plumbing ------------------------------------------------------------

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline(65537)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, code, body=b"", ctype="application/json", headers=None,
              drop=False, truncate=False):
        fake = self.server.fake
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        if truncate:
            body = body[:len(body) // 2]
        # account first: a client may read /_stats as soon as it has the body
        with fake.lock:
            if getattr(self, "kind", None) not in ("control", "stats"):
                fake.record_status(code)
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
            # full Content-Length announced, half the body sent, then close
            self.wfile.write(body[:len(body) // 2])
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True
        elif self.command != "HEAD":
            self.wfile.write(body)

    def _json_body(self):
        try:
            v = json.loads(self.body.decode("utf-8")) if self.body else None
        except (UnicodeDecodeError, ValueError) as e:
            return None, [{"type": "json_invalid", "loc": ["body", 0],
                           "msg": "JSON decode error", "input": {},
                           "ctx": {"error": str(e)}}]
        if not isinstance(v, dict):
            return None, [{"type": "model_attributes_type", "loc": ["body"],
                           "msg": "Input should be a valid dictionary or object to "
                                  "extract fields from", "input": v}]
        return v, None

    # -- routing ---------------------------------------------------------------

    def do_GET(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def _route(self, method, parts):
        """(kind, args) for a request; kind None means unknown path."""
        if parts[:1] == ["_control"] and len(parts) == 1 and method in ("GET", "POST"):
            return "control", ()
        if parts[:1] == ["_stats"] and len(parts) == 1 and method == "GET":
            return "stats", ()
        if parts[:1] == ["files"]:
            if method == "POST" and parts == ["files", "upload"]:
                return "cdn_upload", ()
            if method in ("GET", "HEAD") and len(parts) >= 2:
                return "file", ("/".join(parts[1:]),)
            return None, ()
        if parts[:1] == ["_upload"] and len(parts) >= 2:
            if method == "PUT" and len(parts) == 2:
                return "upload_put", (parts[1], None)
            if method == "PUT" and len(parts) == 3 and parts[2].isdigit():
                return "upload_put", (parts[1], int(parts[2]))
            if method == "POST" and len(parts) == 3 and parts[2] == "complete":
                return "upload_complete", (parts[1],)
            return None, ()
        if parts[:1] == ["storage"]:
            if method == "POST" and parts[1:] in (["upload", "initiate"],
                                                  ["upload", "initiate-multipart"],
                                                  ["auth", "token"]):
                return "storage", (parts[-1],)
            return None, ()
        # queue API: [namespace/]owner/alias[/path...]
        napp = 3 if parts[:1] in (["workflows"], ["comfy"]) else 2
        if len(parts) < napp or parts[0] in RESERVED_OWNERS:
            return None, ()
        tail = parts[napp:]
        app = "/".join(parts[:napp])
        if method == "GET" and len(tail) == 2 and tail[0] == "requests":
            return "result", (app, tail[1])
        if method == "GET" and len(tail) == 3 and tail[0] == "requests" and tail[2] == "status":
            return "status", (app, tail[1])
        if method == "PUT" and len(tail) == 3 and tail[0] == "requests" and tail[2] == "cancel":
            return "cancel", (app, tail[1])
        if method == "POST":
            return "submit", ("/".join(parts),)
        # A follow-up that kept the endpoint's sub-path lands here for GET/PUT
        if "requests" in tail and method in ("GET", "PUT"):
            i = tail.index("requests")
            rest = tail[i + 1:]
            if rest and (len(rest) == 1 or rest[1:] in (["status"], ["cancel"])):
                return "wrong_prefix", ()
        return None, ()

    def _dispatch(self):
        fake = self.server.fake
        try:
            self.body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        url = urlsplit(self.path)
        self.query = parse_qs(url.query)
        parts = [unquote(p) for p in url.path.split("/") if p]
        kind, args = self._route(self.command, parts)
        self.kind = kind
        if kind in ("control", "stats"):   # harness traffic: not counted
            return getattr(self, "_h_" + kind)(*args)
        with fake.lock:
            rk = fake.stats["requests_by_kind"]
            rk[kind or "unknown"] = rk.get(kind or "unknown", 0) + 1
            slow = fake.cfg["slow_ms"]
        if slow:
            time.sleep(slow / 1000.0)
        if kind is None:
            return self._send(404, {"detail": "Path %s not found" % url.path})
        if kind == "wrong_prefix":
            return self._send(404, {"detail": "Request not found"})
        if kind == "file":
            with fake.lock:
                u = fake.draws("file")
                drop = u[2] < fake.cfg["drop"]
                trunc = not drop and u[3] < fake.cfg["truncate"]
                moved = fake.cfg["redirect_files"]
            if moved:
                return self._send(302, {"detail": "moved"}, headers={
                    "Location": "%s/files/%s" % (moved, quote(args[0]))})
            return self._h_file(args[0], drop, trunc)
        if kind in ("upload_put", "upload_complete", "cdn_upload"):
            return getattr(self, "_h_" + kind)(*args)
        # API requests: auth, then 429 burst, then injected 5xx, then work
        auth = self.headers.get("Authorization", "")
        if auth != "Key " + fake.key:
            with fake.lock:
                fake.stats["auth_failures"] += 1
            msg = ("Missing authorization header" if not auth else
                   "Invalid authorization header, expected 'Key <FAL_KEY>'"
                   if not auth.startswith("Key ") else "Invalid API key")
            return self._send(401, {"detail": msg})
        with fake.lock:
            u = fake.draws("api")
            burst = fake.cfg["burst_429"] > 0
            if burst:
                fake.cfg["burst_429"] -= 1
                fake.stats["faults"]["burst_429"] += 1
            elif kind == "submit" and fake.over_rate(time.monotonic()):
                burst = True
                fake.stats["faults"]["rate_429"] += 1
            retry = fake.cfg["retry_after"]
            fail = (not burst and kind in ("submit", "status", "result")
                    and u[0] < fake.cfg["fail_500"])
            if fail:
                kinds = fake.cfg["fail_kinds"]
                fkind = kinds[min(int(u[1] * len(kinds)), len(kinds) - 1)]
                fake.stats["faults"]["fail"] += 1
            drop = u[2] < fake.cfg["drop"]
            self.job_fail_draw = u[4]
        if burst:
            return self._send(429, {"detail": "Rate limit exceeded"},
                              headers={"Retry-After": str(int(math.ceil(retry)))})
        with fake.lock:
            moved = fake.cfg["redirect_submit"] if kind == "submit" else ""
        if moved:
            return self._send(307, {"detail": "moved"}, headers={"Location": moved})
        if fail:
            rid = args[1] if kind in ("status", "result") else None
            return self._fail(fkind, rid)
        self.drop = drop
        return getattr(self, "_h_" + kind)(*args)

    def _fail(self, fkind, rid):
        hdr = {"x-fal-request-id": rid} if rid else {}
        if fkind == "500":
            return self._send(500, {"detail": "Internal Server Error"}, headers=hdr)
        if fkind == "503":
            hdr["X-Fal-Error-Type"] = "runner_scheduling_failure"
            return self._send(503, {"detail": "Failed to schedule a runner for the request.",
                                    "error_type": "runner_scheduling_failure"},
                              headers=hdr)
        # ingress error: HTML from nginx, no x-fal-request-id (ENGINES.md 1.9)
        return self._send(503, NGINX_503, ctype="text/html")

    # -- queue API -------------------------------------------------------------

    def _h_submit(self, endpoint):
        fake = self.server.fake
        body, errs = self._json_body()
        with fake.lock:
            if errs is None:
                verrs = fake.validate(endpoint, body)
            if errs is not None or (verrs and fake.cfg["validate_at_submit"]):
                fake.stats["rejected_submits"] += 1
                reject = errs if errs is not None else verrs
            else:
                reject = None
        if reject is not None:
            return self._send(422, {"detail": reject},
                              headers={"x-fal-billable-units": "0",
                                       "X-Fal-Retryable": "false"})
        key = self.headers.get("X-Loramake-Key")
        with fake.lock:
            now = time.monotonic()
            job = Job()
            job.fid = fake.new_id()    # names its files: always a uuid
            job.id = fake.cfg["request_id"] or job.fid
            fake.seq += 1
            job.seq = fake.seq
            job.endpoint = endpoint
            parts = endpoint.split("/")
            job.app = "/".join(parts[:3 if parts[0] in ("workflows", "comfy") else 2])
            job.body = body
            job.key = key
            job.t_submit = now
            jm = fake.cfg["train_ms" if spec_for(endpoint)["output"] == "training"
                          else "job_ms"]
            qm = min(fake.cfg["queue_ms"], jm)
            job.t_start = now + qm / 1000.0
            job.t_done = now + jm / 1000.0
            job.cancelled = False
            job.extra = {}
            if verrs:
                first = verrs[0]
                job.code, job.answer = 422, {"detail": verrs}
                job.extra = {"error": "Invalid status code: 422",
                             "error_type": first.get("type", "value_error")}
            elif self.job_fail_draw < fake.cfg["job_fail"]:
                fake.stats["faults"]["job_fail"] += 1
                detail = fake.cfg["fail_detail"] or "Internal Server Error"
                if "{headers}" in detail:
                    detail = detail.replace("{headers}", "".join(
                        "%s: %s\n" % kv for kv in self.headers.items()))
                job.code, job.answer = 500, {"detail": detail}
                job.extra = {"error": "Invalid status code: 500",
                             "error_type": "internal_server_error"}
            else:
                job.code, job.answer = 200, fake.output(job)
            fake.jobs[job.id] = job
            fake.active.append(job)
            st = fake.stats
            st["submits_total"] += 1
            st["submits_by_endpoint"][endpoint] = st["submits_by_endpoint"].get(endpoint, 0) + 1
            if key is None:
                st["submits_without_key"] += 1
            else:
                st["submits_by_key"][key] = st["submits_by_key"].get(key, 0) + 1
            st["submitted"].append({"request_id": job.id, "endpoint": endpoint,
                                    "prompt": body.get("prompt"), "key": key})
            st["max_inflight"] = max(st["max_inflight"], fake.inflight(now))
            ans = {"status": "IN_QUEUE", "request_id": job.id}
            ans.update(fake.urls(job))
            ans["queue_position"] = fake.queue_position(job, now)
        # drop here = job created, answer lost: the case a client must handle
        return self._send(200, ans, headers={"x-fal-request-id": job.id},
                          drop=self.drop)

    def _train_logs(self, job, now):
        """A trainer's progress: "step N/STEPS" as the job's time passes."""
        steps = job.body.get("steps", 1000)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            steps = 1000
        span = max(job.t_done - job.t_start, 1e-3)
        done = int(steps * min(1.0, max(0.0, now - job.t_start) / span))
        logs = [{"message": "step %d/%d" % (done, steps), "level": "INFO",
                 "source": "USER", "timestamp": _iso(time.time())}]
        if self.server.fake.cfg["train_log"]:
            logs.append({"message": self.server.fake.cfg["train_log"],
                         "level": "INFO", "source": "USER",
                         "timestamp": _iso(time.time())})
        return logs

    def _lookup(self, app, rid):
        job = self.server.fake.jobs.get(rid)
        return job if job is not None and job.app == app else None

    def _h_status(self, app, rid):
        fake = self.server.fake
        logs_q = (self.query.get("logs") or ["0"])[-1].strip().lower()
        if logs_q not in ("0", "1", "true", "false"):
            return self._send(422, {"detail": [{
                "type": "bool_parsing", "loc": ["query", "logs"],
                "msg": "Input should be a valid boolean, unable to interpret input",
                "input": logs_q}]})
        want_logs = logs_q in ("1", "true")
        with fake.lock:
            fake.stats["status_polls"] += 1
            job = self._lookup(app, rid)
            if job is None:
                ans = None
            else:
                now = time.monotonic()
                state = job.state(now)
                ans = {"status": state, "request_id": job.id}
                ans.update(fake.urls(job))
                if state == "IN_QUEUE":
                    fake.inflight(now)
                    ans["queue_position"] = fake.queue_position(job, now)
                else:
                    logs = None
                    if want_logs:
                        logs = [{"message": "fake-fal: running %s" % job.endpoint,
                                 "level": "INFO", "source": "USER",
                                 "timestamp": _iso(time.time())}]
                        if spec_for(job.endpoint)["output"] == "training":
                            logs += self._train_logs(job, now)
                        if state == "COMPLETED":
                            logs.append({"message": "fake-fal: done (%d)" % job.code,
                                         "level": "INFO", "source": "USER",
                                         "timestamp": _iso(time.time())})
                    ans["logs"] = logs
                if state == "COMPLETED":
                    ans["metrics"] = {"inference_time":
                                      round(max(0.0, job.t_done - job.t_start), 3)}
                    ans.update(job.extra)
        if ans is None:
            return self._send(404, {"detail": "Request not found"}, drop=self.drop)
        code = 200 if ans["status"] == "COMPLETED" else 202
        return self._send(code, ans, headers={"x-fal-request-id": rid}, drop=self.drop)

    def _h_result(self, app, rid):
        fake = self.server.fake
        with fake.lock:
            fake.stats["results"] += 1
            job = self._lookup(app, rid)
            if job is None:
                code, ans = 404, {"detail": "Request not found"}
            elif job.state(time.monotonic()) != "COMPLETED":
                code, ans = 400, {"detail": "Request is still in progress"}
            else:
                code, ans = job.code, job.answer
        hdr = {"x-fal-request-id": rid} if job is not None else {}
        if code == 422:
            hdr["x-fal-billable-units"] = "0"
            hdr["X-Fal-Retryable"] = "false"
        return self._send(code, ans, headers=hdr, drop=self.drop)

    def _h_cancel(self, app, rid):
        fake = self.server.fake
        with fake.lock:
            fake.stats["cancels"] += 1
            job = self._lookup(app, rid)
            if job is None:
                code, ans = 404, {"status": "NOT_FOUND"}
            else:
                now = time.monotonic()
                if job.state(now) == "COMPLETED":
                    code, ans = 400, {"status": "ALREADY_COMPLETED"}
                else:
                    fake.stats["cancels_effective"] += 1
                    job.cancelled = True
                    job.t_start = min(job.t_start, now)
                    job.t_done = now
                    job.code = 499
                    job.answer = {"detail": "Request cancelled by the client."}
                    job.extra = {"error": "Request cancelled by the client.",
                                 "error_type": "request_cancelled"}
                    fake.inflight(now)
                    code, ans = 202, {"status": "CANCELLATION_REQUESTED"}
        return self._send(code, ans, drop=self.drop)

    # -- storage -----------------------------------------------------------------

    def _h_storage(self, action):
        fake = self.server.fake
        if action == "token":
            tok = uuid.uuid4().hex
            with fake.lock:
                fake.cdn_tokens.add(tok)
            return self._send(200, {"token": tok, "token_type": "Bearer",
                                    "base_url": fake.base,
                                    "expires_at": _iso(time.time() + 3600)[:19] + "Z"},
                              drop=self.drop)
        body, errs = self._json_body()
        if errs is not None:
            return self._send(422, {"detail": errs})
        with fake.lock:
            refuse = fake.cfg["refuse_uploads"] > 0
            if refuse:
                fake.cfg["refuse_uploads"] -= 1
                fake.stats["refused_uploads"] += 1
        if refuse:
            return self._send(400, {"detail": "Upload refused: storage quota exceeded"})
        ctype = body.get("content_type") or "application/octet-stream"
        fname = body.get("file_name") or "%d.bin" % int(time.time() * 1000)
        if not isinstance(ctype, str) or not isinstance(fname, str):
            return self._send(422, {"detail": [{"type": "string_type",
                                                "loc": ["body", "file_name"],
                                                "msg": "Input should be a valid string",
                                                "input": fname}]})
        tok = uuid.uuid4().hex
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", fname.rsplit("/", 1)[-1]) or "file"
        name = "u/%s/%s" % (tok, safe)
        with fake.lock:
            fake.uploads[tok] = {"name": name, "content_type": ctype,
                                 "multipart": action == "initiate-multipart",
                                 "parts": {}}
        return self._send(200, {"upload_url": "%s/_upload/%s" % (fake.base, tok),
                                "file_url": "%s/files/%s" % (fake.base, quote(name))},
                          drop=self.drop)

    def _h_upload_put(self, tok, part):
        fake = self.server.fake
        with fake.lock:
            up = fake.uploads.get(tok)
            if up is None or up["multipart"] != (part is not None):
                up = None
            elif part is None:
                fake.blobs[up["name"]] = (self.headers.get("Content-Type")
                                          or up["content_type"], self.body)
                fake.stats["uploads"] += 1
            else:
                etag = hashlib.md5(self.body).hexdigest()
                up["parts"][part] = (etag, self.body)
        if up is None:
            return self._send(404, {"detail": "Upload not found"})
        if part is None:
            return self._send(200, b"", ctype="text/plain")
        return self._send(200, {"partNumber": part, "etag": etag},
                          headers={"ETag": '"%s"' % etag})

    def _h_upload_complete(self, tok):
        fake = self.server.fake
        body, errs = self._json_body()
        with fake.lock:
            up = fake.uploads.get(tok)
            if up is None or not up["multipart"]:
                up = None
        if up is None:
            return self._send(404, {"detail": "Upload not found"})
        with fake.lock:
            parts = (body or {}).get("parts")
            data = bytearray()
            ok = isinstance(parts, list) and parts
            for p in parts or []:
                n = p.get("partNumber") if isinstance(p, dict) else None
                have = up["parts"].get(n)
                if have is None or have[0] != str(p.get("etag", "")).strip('"'):
                    ok = False
                    break
                data += have[1]
            if ok:
                fake.blobs[up["name"]] = (up["content_type"], bytes(data))
                fake.stats["uploads"] += 1
        if not ok:
            return self._send(400, {"detail": "Invalid parts"})
        return self._send(200, {"file_url": "%s/files/%s" % (fake.base, quote(up["name"]))})

    def _h_cdn_upload(self):
        fake = self.server.fake
        auth = self.headers.get("Authorization", "")
        tok = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        with fake.lock:
            ok = tok in fake.cdn_tokens
            if ok:
                fname = self.headers.get("X-Fal-File-Name") or "upload.bin"
                safe = re.sub(r"[^A-Za-z0-9._-]", "_", fname) or "file"
                name = "u/%s/%s" % (uuid.uuid4().hex, safe)
                fake.blobs[name] = (self.headers.get("Content-Type")
                                    or "application/octet-stream", self.body)
                fake.stats["uploads"] += 1
        if not ok:
            return self._send(401, {"detail": "Invalid token"})
        return self._send(200, {"access_url": "%s/files/%s" % (fake.base, quote(name))})

    # -- files, control, stats -------------------------------------------------------

    def _h_file(self, name, drop, trunc):
        fake = self.server.fake
        with fake.lock:
            blob = fake.blobs.get(name)
        if blob is None:
            data = png_for(name)
            blob = ("image/png", data) if data is not None else None
        if blob is None:
            return self._send(404, {"detail": "File not found"})
        with fake.lock:
            fake.stats["files_served"] += 1
            big = fake.cfg["big_files"]
            trickle = fake.cfg["trickle_files"] > 0
            if trickle:
                fake.cfg["trickle_files"] -= 1
        if big or trickle:
            return self._stream(blob, big, trickle)
        return self._send(200, blob[1], ctype=blob[0], drop=drop, truncate=trunc)

    def _stream(self, blob, big, trickle):
        """A file sent slowly (1 byte per 200 ms) or padded to big bytes,
        until it is all sent or the client hangs up."""
        fake = self.server.fake
        data = blob[1] + b"\0" * max(0, big - len(blob[1]))
        with fake.lock:
            fake.record_status(200)
        fake.log("%s %s 200%s" % (self.command, self.path,
                                  " trickled" if trickle else " big"))
        self.send_response(200)
        self.send_header("Content-Type", blob[0])
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        step = 1 if trickle else 1 << 16
        try:
            for i in range(0, len(data), step):
                self.wfile.write(data[i:i + step])
                self.wfile.flush()
                if trickle:
                    time.sleep(0.2)
        except OSError:
            pass
        self.close_connection = True

    def _h_control(self):
        fake = self.server.fake
        if self.command == "POST":
            body, errs = self._json_body()
            if errs is not None:
                return self._send(400, {"detail": "body must be a JSON object"})
            body = dict(body)
            reset = _bool(body.pop("reset", False))
            reset_stats = _bool(body.pop("reset_stats", False))
            release_ms = body.pop("release_ms", None)
            with fake.lock:
                try:
                    fake.set(body)
                    bad = None
                except ValueError as e:
                    bad = str(e)
                if bad is not None:
                    pass
                elif reset:
                    fake._reset_state()
                    # reseed the faults, not the request ids: a real queue
                    # never hands out an id twice, and a client resuming an
                    # old id must not find someone else's new job under it
                    fake.streams.clear()
                elif release_ms is not None:
                    try:
                        fake.release(time.monotonic(), _nonneg_int(release_ms))
                    except (TypeError, ValueError) as e:
                        bad = "release_ms: %s" % e
                elif reset_stats:
                    jobs_keep = (fake.jobs, fake.active, fake.seq, fake.blobs,
                                 fake.uploads, fake.cdn_tokens)
                    fake._reset_state()
                    (fake.jobs, fake.active, fake.seq, fake.blobs,
                     fake.uploads, fake.cdn_tokens) = jobs_keep
            if bad is not None:
                return self._send(400, {"detail": bad})
        with fake.lock:
            cfg = dict(fake.cfg)
        return self._send(200, cfg)

    def _h_stats(self):
        fake = self.server.fake
        with fake.lock:
            st = json.loads(json.dumps(fake.stats))
            st["inflight"] = fake.inflight(time.monotonic())
            st["jobs"] = len(fake.jobs)
            if (self.query.get("bodies") or ["0"])[-1] in ("1", "true"):
                st["bodies"] = [{"request_id": j.id, "endpoint": j.endpoint,
                                 "key": j.key, "body": _shorten(j.body)}
                                for j in sorted(fake.jobs.values(), key=lambda j: j.seq)]
        return self._send(200, st)


# --------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(description="Fake fal.ai queue server (loopback).")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    p.add_argument("--key", default="test-key", help="expected FAL key")
    p.add_argument("--log", help="append 'METHOD PATH STATUS' lines here")
    p.add_argument("--job-ms", type=int, default=200)
    p.add_argument("--queue-ms", type=int, default=0,
                   help="first part of --job-ms spent IN_QUEUE")
    p.add_argument("--image-size", default="64", help="N or WxH of generated PNGs")
    p.add_argument("--fail-500", type=float, default=0.0)
    p.add_argument("--fail-kinds", default=",".join(FAIL_KINDS))
    p.add_argument("--drop", type=float, default=0.0)
    p.add_argument("--truncate", type=float, default=0.0)
    p.add_argument("--burst-429", type=int, default=0)
    p.add_argument("--retry-after", type=float, default=1)
    p.add_argument("--submit-rate", type=float, default=0)
    p.add_argument("--slow-ms", type=int, default=0)
    p.add_argument("--job-fail", type=float, default=0.0)
    p.add_argument("--validate-at-submit", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    settings = {
        "job_ms": a.job_ms, "queue_ms": a.queue_ms, "image_size": a.image_size,
        "fail_500": a.fail_500, "fail_kinds": a.fail_kinds, "drop": a.drop,
        "truncate": a.truncate, "burst_429": a.burst_429,
        "retry_after": a.retry_after, "submit_rate": a.submit_rate,
        "slow_ms": a.slow_ms,
        "job_fail": a.job_fail, "validate_at_submit": a.validate_at_submit,
        "seed": a.seed,
    }
    try:
        fake = FakeFal(port=a.port, key=a.key, log_path=a.log, **settings)
    except ValueError as e:
        print("fal_server: %s" % e, file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fake.start()
    sys.stdout.write("PORT %d\n" % fake.port)
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
