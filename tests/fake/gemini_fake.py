#!/usr/bin/env python3
"""Fake Gemini API (generateContent with image output) for loramake's tests.

Python 3 standard library only; modelled on replicate_fake.py beside it.
It follows /work/shared/ENGINES.md section 3:

  POST /v1beta/models/{model}:generateContent   one synchronous call
  GET|POST /_control                            read or change settings
  GET  /_stats[?bodies=1]                       the ledger the tests read

The key is the x-goog-api-key header (a ?key= query is accepted, as the
service does, and counted: loramake must never send it there).  A wrong
key answers 400 INVALID_ARGUMENT with the ErrorInfo reason
API_KEY_INVALID, none 403 PERMISSION_DENIED, an unknown model 404.  The
request is checked: parts of text and inlineData (or inline_data) whose
data is base64, at most the model's number of images, imageSize only on
Gemini 3, an aspectRatio from the documented list.  A call is held for
job_ms (release_ms in /_control ends the wait of the held ones), then
answered with the image inline as base64 (and, with thoughts on, a
thought part with another, smaller image before it).  Without IMAGE in
responseModalities the answer is text only.

With responseMimeType application/json (structured output: loramake's
vision calls) the answer is one text part of JSON, the caption
question's: what the image's hash picks from small tables, with
vision_answer's members over them; vision_bad breaks it (not_json, extra_member,
too_long, control, missing, duplicate).  The identity gate's question
(a schema with a score) fails the last image of the call, judged against
every image before it, its references (score 0.35,
reasons "jaw wider", "eyes soft", and on a back view "head turned to
camera on a back view") when this fake made it from a prompt holding one
of gate_fail's strings ("once:WORDS": only the first image made from
such a prompt, so a reroll passes), else passes it (0.92); the ledger's
gate_refs lists each gate call's references, in the order sent.

Faults: fail_500 (500 INTERNAL, before any work), burst_429 (the next N
calls), submit_rate (calls a second; over it 429), each 429 a
RESOURCE_EXHAUSTED error whose RetryInfo detail says retry_delay seconds
(no Retry-After header, as Google's), block (a SAFETY refusal: half as
promptFeedback.blockReason, half as finishReason IMAGE_SAFETY), drop (the
answer's headers and half its body, then the connection closes), truncate
(a 200 whose body is cut in half, Content-Length and all), cut_image (the
image's PNG cut in half, then encoded).  A call that reached the model
(an image answer, even dropped or cut) is "generated": that is what
Google bills.
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import random
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fal_server import make_png  # noqa: E402  (the same PNGs)
from fakelib import boolean as _bool, count as _count, nonneg as _nonneg  # noqa: E402
from fakelib import prob as _prob, serve, shorten as _shorten  # noqa: E402

VISION_BAD = ("", "not_json", "extra_member", "too_long", "control",
              "missing", "duplicate")


def _json_object(v):
    if v is None or isinstance(v, dict):
        return v
    v = json.loads(v)
    if not isinstance(v, dict):
        raise ValueError("vision_answer must be a JSON object")
    return v


def _str_list(v):
    if isinstance(v, str):
        v = json.loads(v)
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValueError("gate_fail is a list of strings")
    return v


def _vision_bad(v):
    if v not in VISION_BAD:
        raise ValueError("vision_bad is one of %s" % ", ".join(VISION_BAD[1:]))
    return v


# what the fake vision model sees in a photo, picked by the image's hash
EXPRESSIONS = [("a slight smile", ["raised cheeks", "soft eyes"]),
               ("focused", ["narrowed eyes", "set jaw", "lips pressed"]),
               ("tired", ["heavy eyelids", "relaxed jaw"]),
               ("amused", ["crinkled eyes", "open grin"])]
ANGLES = ["seen from the front", "in a three-quarter view from the left",
          "in left profile", "seen from below"]
FRAMINGS = ["closeup", "medium", "full", "medium"]
PLACES = ["a cafe terrace", "a park bench", "a busy street", "an office desk",
          "a kitchen"]
LIGHTS = ["warm window light", "soft overcast light", "golden hour light"]
WARDROBE = ["a grey hoodie", "a denim jacket", "a white blouse"]
POSES = ["seated at a table", "standing with arms crossed", "leaning on a rail"]

SETTINGS = {
    "job_ms": (200, _count),         # call -> answer
    "fail_500": (0.0, _prob),        # P(a call answers 500)
    "drop": (0.0, _prob),            # P(an answer is cut mid-body)
    "truncate": (0.0, _prob),        # P(a 200 body is cut, length and all)
    "cut_image": (0.0, _prob),       # P(the image itself is cut in half)
    "block": (0.0, _prob),           # P(a SAFETY refusal)
    "burst_429": (0, _count),        # the next N calls answer 429
    "submit_rate": (0, _nonneg),     # calls a second; 0: no limit
    "retry_delay": (1, _nonneg),     # seconds, in the RetryInfo detail
    "thoughts": (False, _bool),      # a thought part with an image first
    "image_size": (64, _count),
    "seed": (1, int),
    "vision_answer": (None, _json_object),  # members over the caption answer
    "vision_bad": ("", _vision_bad),         # a broken structured answer
    "gate_fail": ([], _str_list),            # prompts whose images fail a gate
}

# model -> (images a call may carry, takes imageSize)
MODELS = {
    "gemini-2.5-flash-image": (3, False),
    "gemini-2.5-flash-image-preview": (3, False),
    "gemini-3-pro-image-preview": (14, True),
    # vision models: images in, text (structured output) out
    "gemini-2.5-flash": (3, False),
    "gemini-2.5-flash-lite": (3, False),
    "gemini-2.5-pro": (3, False),
}
ASPECTS = {"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"}
SIZES = {"1K", "2K", "4K"}
PATH = re.compile(r"^/v1beta/models/([A-Za-z0-9._-]+):generateContent$")
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def google_error(code, status, message, details=None):
    """The error body of ENGINES.md 3.4."""
    e = {"code": code, "message": message, "status": status}
    if details:
        e["details"] = details
    return {"error": e}


class Fake:
    def __init__(self, port=0, key="test-key", log_path=None, **settings):
        self.key = key
        self.lock = threading.Lock()
        self.held = threading.Condition(self.lock)
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
        self.tokens = None
        self.t_tokens = 0.0
        self.release = None      # (when, deadline) of the last release_ms
        self.made = {}           # sha256 of an image's base64 -> its prompt
        self.first_made = {}     # a prompt -> the sha256 of its first image
        self.reset_stats()

    def reset_stats(self):
        self.inflight = 0
        self.t_429 = {}          # key -> when it was last answered 429
        self.stats = {
            "calls_total": 0, "calls_by_key": {}, "calls_without_key": 0,
            "generated": 0, "generated_by_key": {}, "bodies": [],
            "key_in_query": 0, "auth_failures": 0, "max_inflight": 0,
            "vision_calls": 0, "gate_calls": 0, "gate_failed": [],
            "gate_refs": [],
            "by_status": {}, "waits_after_429": [],
            "faults": {"burst_429": 0, "rate_429": 0, "fail": 0, "drop": 0,
                       "truncate": 0, "cut_image": 0, "block": 0},
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

    def hold(self, seconds):
        """Wait out a call's job time (the lock held on entry), or until
        release_ms says otherwise."""
        start = time.monotonic()
        end = start + seconds
        self.inflight += 1
        self.stats["max_inflight"] = max(self.stats["max_inflight"], self.inflight)
        while True:
            now = time.monotonic()
            if self.release and self.release[0] >= start:
                end = min(end, self.release[1])
            if now >= end:
                break
            self.held.wait(end - now)
        self.inflight -= 1

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


class Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


def _image_count(body, model):
    """How many images the request carries; ValueError if it is malformed."""
    if not isinstance(body, dict):
        raise ValueError("Invalid JSON payload received.")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise ValueError("* GenerateContentRequest.contents: contents is not specified")
    n = 0
    for c in contents:
        parts = c.get("parts") if isinstance(c, dict) else None
        if not isinstance(parts, list) or not parts:
            raise ValueError("* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.")
        for p in parts:
            inl = p.get("inlineData", p.get("inline_data")) if isinstance(p, dict) else None
            if inl is None:
                if not isinstance(p, dict) or not isinstance(p.get("text"), str):
                    raise ValueError("Invalid JSON payload received. Unknown part.")
                continue
            mime = inl.get("mimeType", inl.get("mime_type"))
            if not isinstance(mime, str) or not mime.startswith("image/"):
                raise ValueError("Unsupported MIME type: %s" % mime)
            try:
                base64.b64decode(inl.get("data", ""), validate=True)
            except (binascii.Error, ValueError, TypeError):
                raise ValueError("Invalid value at 'contents[0].parts[%d].inline_data.data' (TYPE_BYTES), Base64 decoding failed" % n)
            n += 1
    max_images, sized = MODELS[model]
    if n > max_images:
        raise ValueError("Too many images in the request: %d given, the model takes at most %d." % (n, max_images))
    ic = (body.get("generationConfig") or {}).get("imageConfig") or {}
    if "imageSize" in ic and (not sized or ic["imageSize"] not in SIZES):
        raise ValueError("imageSize is not supported for this model." if not sized
                         else "Invalid imageSize: %s" % ic["imageSize"])
    gc = body.get("generationConfig") or {}
    schema = gc.get("responseSchema")
    if schema is not None and (gc.get("responseMimeType") != "application/json"
                               or not isinstance(schema, dict)
                               or schema.get("type") != "OBJECT"):
        raise ValueError("responseSchema needs responseMimeType application/json and an OBJECT")
    if "aspectRatio" in ic and ic["aspectRatio"] not in ASPECTS:
        raise ValueError("Invalid aspectRatio: %s" % ic["aspectRatio"])
    return n


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    # an answer's headers and body leave in one send (http.server flushes
    # after each request; the fakes flush themselves where they trickle or
    # cut an answer): two sends a request cost a loaded fake ~0.15 ms each
    wbufsize = 1 << 16
    server_version = "fake-gemini/1"

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, body=b"", headers=None, drop=False, truncate=False):
        fake = self.server.fake
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        if truncate:
            body = body[:len(body) // 2]
        with fake.lock:
            if self.kind == "call":
                bs = fake.stats["by_status"]
                bs[str(code)] = bs.get(str(code), 0) + 1
        fake.log("%s %s %d%s%s" % (self.command, urlsplit(self.path).path, code,
                                   " dropped" if drop else "",
                                   " truncated" if truncate else ""))
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
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

    def _dispatch(self):
        url = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(n) if n > 0 else b""
        self.query = parse_qs(url.query)
        self.kind = None
        if url.path == "/_control" and self.command in ("GET", "POST"):
            self.kind = "control"
            return self._h_control()
        if url.path == "/_stats" and self.command == "GET":
            self.kind = "stats"
            return self._h_stats()
        m = PATH.match(url.path)
        if not m or self.command != "POST":
            return self._send(404, google_error(404, "NOT_FOUND", "Requested entity was not found."))
        self.kind = "call"
        return self._h_call(m.group(1))

    def _auth(self):
        """None if the key is right, else the error answer's arguments."""
        fake = self.server.fake
        key = self.headers.get("x-goog-api-key")
        if key is None and "key" in self.query:
            with fake.lock:
                fake.stats["key_in_query"] += 1
            key = self.query["key"][0]
        if key == fake.key:
            return None
        with fake.lock:
            fake.stats["auth_failures"] += 1
        if not key:
            return 403, google_error(403, "PERMISSION_DENIED",
                                     "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")
        return 400, google_error(400, "INVALID_ARGUMENT",
                                 "API key not valid. Please pass a valid API key.",
                                 [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                   "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                                   "metadata": {"service": "generativelanguage.googleapis.com"}}])

    def _throttled(self):
        """The 429 answer, or None. The ledger keeps how long each key
        waited after a 429 before it called again."""
        fake = self.server.fake
        key, now = self.headers.get("X-Loramake-Key"), time.monotonic()
        with fake.lock:
            if key in fake.t_429:
                fake.stats["waits_after_429"].append(round(now - fake.t_429.pop(key), 3))
            if fake.cfg["burst_429"] > 0:
                fake.cfg["burst_429"] -= 1
                fake.stats["faults"]["burst_429"] += 1
            elif fake.over_rate(time.monotonic()):
                fake.stats["faults"]["rate_429"] += 1
            else:
                return None
            fake.t_429[key] = now
            delay = fake.cfg["retry_delay"]
        return google_error(429, "RESOURCE_EXHAUSTED",
                            "You exceeded your current quota, please check your plan and billing details.",
                            [{"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                              "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
                                              "quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}]},
                             {"@type": "type.googleapis.com/google.rpc.RetryInfo",
                              "retryDelay": "%gs" % delay}])

    def _h_call(self, model):
        fake = self.server.fake
        denied = self._auth()
        if denied:
            return self._send(*denied)
        if model not in MODELS:
            return self._send(404, google_error(404, "NOT_FOUND",
                                                "models/%s is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods." % model))
        throttle = self._throttled()
        if throttle:
            return self._send(429, throttle)
        with fake.lock:
            u = [fake.rng.random() for _ in range(6)]
            cfg = dict(fake.cfg)
        if u[0] < cfg["fail_500"]:
            with fake.lock:
                fake.stats["faults"]["fail"] += 1
            return self._send(500, google_error(500, "INTERNAL",
                                                "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"))
        try:
            body = json.loads(self.body.decode())
            images = _image_count(body, model)
        except (UnicodeDecodeError, ValueError) as e:
            msg = str(e) if not isinstance(e, json.JSONDecodeError) else "Invalid JSON payload received."
            return self._send(400, google_error(400, "INVALID_ARGUMENT", msg))
        key = self.headers.get("X-Loramake-Key")
        gc = body.get("generationConfig") or {}
        with fake.lock:
            s = fake.stats
            s["calls_total"] += 1
            if key:
                s["calls_by_key"][key] = s["calls_by_key"].get(key, 0) + 1
            else:
                s["calls_without_key"] += 1
            s["bodies"].append({"model": model, "images": images, "key": key,
                                "body": _shorten(body)})
            rid = "".join(fake.rng.choice(ID_CHARS) for _ in range(22))
            fake.hold(cfg["job_ms"] / 1000.0)
        if u[1] < cfg["block"]:
            with fake.lock:
                fake.stats["faults"]["block"] += 1
            return self._send(200, self._blocked(model, rid, u[2] < 0.5))
        if gc.get("responseMimeType") == "application/json":
            return self._send(200, self._structured(model, rid, body, cfg))
        wants_image = "IMAGE" in (gc.get("responseModalities") or ["TEXT", "IMAGE"])
        drop, cut = u[3] < cfg["drop"], u[5] < cfg["cut_image"]
        trunc = u[4] < cfg["truncate"] and not drop
        if wants_image:
            with fake.lock:
                fake.stats["generated"] += 1
                g = fake.stats["generated_by_key"]
                g[str(key)] = g.get(str(key), 0) + 1
                for name, on in (("drop", drop), ("truncate", trunc), ("cut_image", cut)):
                    fake.stats["faults"][name] += on
        answer = self._answer(model, rid, wants_image, cfg, cut)
        if wants_image:
            data = answer["candidates"][0]["content"]["parts"][-1]["inlineData"]["data"]
            prompt = " ".join(p.get("text", "") for p in body["contents"][0]["parts"])
            with fake.lock:
                sha = hashlib.sha256(data.encode()).hexdigest()
                fake.made[sha] = prompt
                fake.first_made.setdefault(prompt, sha)
        return self._send(200, answer, drop=drop, truncate=trunc)

    def _answer(self, model, rid, wants_image, cfg, cut):
        """The GenerateContentResponse of ENGINES.md 3.3."""
        n = cfg["image_size"]
        png = make_png(n, n, hashlib.sha256(rid.encode()).digest())
        if cut:
            png = png[:len(png) // 2]
        parts = []
        if cfg["thoughts"]:
            draft = make_png(8, 8, hashlib.sha256(b"draft" + rid.encode()).digest())
            parts.append({"thought": True, "thoughtSignature": "c2lnbmF0dXJl",
                          "inlineData": {"mimeType": "image/png",
                                         "data": base64.b64encode(draft).decode()}})
        parts.append({"text": "Here is the edited image."})
        if wants_image:
            parts.append({"inlineData": {"mimeType": "image/png",
                                         "data": base64.b64encode(png).decode()}})
        return {
            "candidates": [{"content": {"role": "model", "parts": parts},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 300, "candidatesTokenCount": 1290,
                              "totalTokenCount": 1590},
            "modelVersion": model, "responseId": rid,
        }

    def _structured(self, model, rid, body, cfg):
        """A structured-output answer (responseMimeType application/json):
        the JSON of the caption question as text, or of a fault."""
        fake = self.server.fake
        parts = body["contents"][0]["parts"]
        images = [p.get("inlineData", p.get("inline_data")) for p in parts
                  if "inlineData" in p or "inline_data" in p]
        digest = hashlib.sha256((images[-1] or {}).get("data", "").encode()).digest() \
            if images else b"\0" * 8
        schema = (body.get("generationConfig") or {}).get("responseSchema") or {}
        if "score" in (schema.get("properties") or {}):
            return self._gate(model, rid, parts, images, cfg)
        with fake.lock:
            fake.stats["vision_calls"] += 1
        answer = dict(self._caption_answer(digest), **(cfg["vision_answer"] or {}))
        text = json.dumps(answer)
        bad = cfg["vision_bad"]
        if bad == "not_json":
            text = "Sure! Here is the JSON: " + text
        elif bad == "extra_member":
            text = json.dumps(dict(answer, eye_colour="blue"))
        elif bad == "too_long":
            text = json.dumps(dict(answer, place="a very long place " * 40))
        elif bad == "control":
            text = json.dumps(dict(answer, place="a cafe\u001b[31m terrace"))
        elif bad == "missing":
            text = json.dumps({k: v for k, v in answer.items() if k != "light"})
        elif bad == "duplicate":
            text = text[:-1] + ', "place": "again"}'
        return {
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 1300, "candidatesTokenCount": 80,
                              "totalTokenCount": 1380},
            "modelVersion": model, "responseId": rid,
        }

    def _gate(self, model, rid, parts, images, cfg):
        """The identity gate's answer on the last image against the others
        (its references): it fails when the image was made (by this fake)
        from a prompt that holds one of gate_fail's words.  Each call's
        references go to stats gate_refs, in the order sent: the prompt
        this fake made one from, else "sha256:" and its bytes' hash."""
        fake = self.server.fake
        data = (images[-1] or {}).get("data", "") if len(images) >= 2 else ""
        sha = hashlib.sha256(data.encode()).hexdigest()
        with fake.lock:
            made = fake.made.get(sha, "")
            first = fake.first_made.get(made) == sha
            refs = [self._reference(fake, (im or {}).get("data", ""))
                    for im in images[:-1]]
        fail = any(w[5:] in made and first if w.startswith("once:") else w in made
                   for w in cfg["gate_fail"])
        back = "meant as a back view" in parts[0].get("text", "")
        reasons = ["jaw wider", "eyes soft"] if fail else []
        if fail and back:
            reasons.append("head turned to camera on a back view")
        answer = {"score": 0.35 if fail else 0.92, "view": "back" if back else "front",
                  "reasons": reasons}
        with fake.lock:
            fake.stats["gate_calls"] += 1
            fake.stats["gate_refs"].append(refs)
            if fail:
                fake.stats["gate_failed"].append(made)
        return {
            "candidates": [{"content": {"role": "model",
                                        "parts": [{"text": json.dumps(answer)}]},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 2600, "candidatesTokenCount": 60,
                              "totalTokenCount": 2660},
            "modelVersion": model, "responseId": rid,
        }

    @staticmethod
    def _reference(fake, data):
        """What a gate's reference is, to this fake (its lock held)."""
        made = fake.made.get(hashlib.sha256(data.encode()).hexdigest())
        if made:
            return made
        try:
            raw = base64.b64decode(data, validate=True)
        except ValueError:
            return "not base64"
        return "sha256:" + hashlib.sha256(raw).hexdigest()

    @staticmethod
    def _caption_answer(digest):
        def pick(choices, i):
            return choices[digest[i] % len(choices)]
        expr = pick(EXPRESSIONS, 0)
        return {"expression": expr[0], "expression_details": expr[1],
                "angle": pick(ANGLES, 1), "framing": pick(FRAMINGS, 1),
                "place": pick(PLACES, 2), "light": pick(LIGHTS, 3),
                "wardrobe": pick(WARDROBE, 4), "pose": pick(POSES, 5)}

    @staticmethod
    def _blocked(model, rid, by_prompt):
        usage = {"promptTokenCount": 300, "totalTokenCount": 300}
        if by_prompt:
            return {"promptFeedback": {"blockReason": "SAFETY"},
                    "usageMetadata": usage, "modelVersion": model, "responseId": rid}
        return {"candidates": [{"content": {"role": "model", "parts": []},
                                "finishReason": "IMAGE_SAFETY", "index": 0}],
                "usageMetadata": usage, "modelVersion": model, "responseId": rid}

    def _h_stats(self):
        fake = self.server.fake
        with fake.lock:
            d = json.loads(json.dumps(fake.stats))
            d["inflight"] = fake.inflight
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
                    fake.release = (now, now + _nonneg(req["release_ms"]) / 1000.0)
                    fake.held.notify_all()
                cfg = dict(fake.cfg)
        except (ValueError, TypeError, UnicodeDecodeError) as e:
            return self._send(400, {"detail": str(e)})
        return self._send(200, cfg)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--key", default="test-key")
    ap.add_argument("--log")
    for name, (default, _) in SETTINGS.items():
        ap.add_argument("--" + name.replace("_", "-"), dest=name, default=default)
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        fake = Fake(port=a.port, key=a.key, log_path=a.log,
                    **{k: getattr(a, k) for k in SETTINGS})
    except ValueError as e:
        print("gemini_fake: %s" % e, file=sys.stderr)
        return 2
    return serve(fake)


if __name__ == "__main__":
    sys.exit(main())
