#!/usr/bin/env python3
"""Fake ComfyUI server for loramake's integration tests.

Python 3 standard library only; modelled on replicate_fake.py beside it.
It follows /work/shared/ENGINES.md section 4 (every route also under
/api/...):

  POST /prompt           {"prompt": API-format workflow, "client_id"}:
                         validated as ComfyUI does (node_errors), queued
  GET  /history/{id}     {} until it ran, then outputs and status
  GET  /view?filename=&subfolder=&type=   the images it saved
  POST /upload/image     multipart (image, type, subfolder, overwrite)
  GET  /queue            {"queue_running": [...], "queue_pending": [...]}
  POST /queue            {"delete": [ids]} or {"clear": true}
  POST /interrupt        [{"prompt_id"}]: stop the running prompt
  GET  /system_stats     a little about the "machine"
  GET|POST /_control     read or change settings
  GET  /_stats[?bodies=1]  the ledger the tests read

One worker runs the queue, one prompt at a time, each for job_ms (with
hold, until /_control release or /interrupt).  Validation knows the node
classes of the default workflows (checkpoint and LoRA loaders, text
encoders, KSampler, latents, VAE, LoadImage, SaveImage, PreviewImage):
value_not_in_list for an unknown checkpoint, LoRA, sampler or scheduler,
required_input_missing, bad_linked_input, value_smaller_than_min /
value_bigger_than_max, custom_validation_failed for an image it lacks,
invalid_prompt for an unknown class.  fail_exec makes the KSampler of a
prompt fail at run time (execution_error, CUDA out of memory).  A
request with a loopback Host and a different Origin gets 403, as the
real server's origin check.
"""

import email.parser
import email.policy
import hashlib
import json
import os
import random
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fal_server import make_png  # noqa: E402  (the same PNGs)
from fakelib import (arg_parser, boolean, control, count, prob,  # noqa: E402
                     serve, shorten)


SETTINGS = {
    "job_ms": (100, count),    # one prompt's run
    "hold": (False, boolean),     # the running prompt waits for release
    "fail_exec": (0.0, prob),  # P(a prompt's KSampler fails when run)
    "image_size": (64, count),
    "seed": (1, int),
}

CHECKPOINTS = ["sd_xl_base_1.0.safetensors", "juggernautXL_v9.safetensors"]
LORAS = ["qschar_v1.safetensors", "detail_tweaker.safetensors"]
SAMPLERS = ["euler", "euler_ancestral", "dpmpp_2m", "dpmpp_sde", "ddim", "uni_pc"]
SCHEDULERS = ["normal", "karras", "exponential", "sgm_uniform", "simple"]

# class -> {input: spec}; spec: ("link", TYPE) | ("list", choices) |
# ("int"|"float", lo, hi) | ("str",) | ("image",)
CLASSES = {
    "CheckpointLoaderSimple": ({"ckpt_name": ("list", CHECKPOINTS)},
                               ["MODEL", "CLIP", "VAE"]),
    "LoraLoader": ({"model": ("link", "MODEL"), "clip": ("link", "CLIP"),
                    "lora_name": ("list", LORAS),
                    "strength_model": ("float", -100.0, 100.0),
                    "strength_clip": ("float", -100.0, 100.0)},
                   ["MODEL", "CLIP"]),
    "CLIPTextEncode": ({"text": ("str",), "clip": ("link", "CLIP")},
                       ["CONDITIONING"]),
    "EmptyLatentImage": ({"width": ("int", 16, 16384), "height": ("int", 16, 16384),
                          "batch_size": ("int", 1, 4096)}, ["LATENT"]),
    "KSampler": ({"model": ("link", "MODEL"), "seed": ("int", 0, 2**64 - 1),
                  "steps": ("int", 1, 10000), "cfg": ("float", 0.0, 100.0),
                  "sampler_name": ("list", SAMPLERS),
                  "scheduler": ("list", SCHEDULERS),
                  "positive": ("link", "CONDITIONING"),
                  "negative": ("link", "CONDITIONING"),
                  "latent_image": ("link", "LATENT"),
                  "denoise": ("float", 0.0, 1.0)}, ["LATENT"]),
    "VAEDecode": ({"samples": ("link", "LATENT"), "vae": ("link", "VAE")}, ["IMAGE"]),
    "VAEEncode": ({"pixels": ("link", "IMAGE"), "vae": ("link", "VAE")}, ["LATENT"]),
    "LoadImage": ({"image": ("image",)}, ["IMAGE", "MASK"]),
    "SaveImage": ({"images": ("link", "IMAGE"), "filename_prefix": ("str",)}, []),
    "PreviewImage": ({"images": ("link", "IMAGE")}, []),
}
OUTPUT_CLASSES = ("SaveImage", "PreviewImage")


def node_error(typ, message, details, input_name=None, extra=None):
    e = {"type": typ, "message": message, "details": details, "extra_info": {}}
    if input_name is not None:
        e["extra_info"]["input_name"] = input_name
    e["extra_info"].update(extra or {})
    return e


class Prompt:
    pass


class Fake:
    def __init__(self, port=0, log_path=None, **settings):
        self.lock = threading.Lock()
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
        self.prompts = {}        # id -> Prompt
        self.queue = []          # pending ids, in order
        self.running = None
        self.history = {}
        self.inputs = {}         # uploaded name -> bytes
        self.outputs = {}        # (subfolder, name, type) -> bytes
        self.counter = 0
        self.number = 0
        self.released = 0
        self.reset_stats()

    def reset_stats(self):
        self.stats = {
            "submits_total": 0, "submits_by_key": {}, "bodies": [],
            "rejected": [], "executed": 0, "failed": 0, "interrupts": 0,
            "interrupted": 0, "deleted": 0, "queue_deletes": 0,
            "uploads": 0, "upload_names": [], "views": 0, "history_polls": 0,
            "queue_polls": 0, "max_queued": 0, "origin_refused": 0,
            "running": 0, "by_status": {},
        }

    def log(self, line):
        if self.log_file:
            with self.lock:
                self.log_file.write(line + "\n")
                self.log_file.flush()

    # -- validation, as execution.py validate_prompt ----------------------

    def validate(self, prompt):
        """(error, node_errors) of an API-format workflow; (None, {}) if valid."""
        for nid, node in prompt.items():
            if not isinstance(node, dict) or "class_type" not in node:
                return ({"type": "invalid_prompt",
                         "message": "Cannot execute because a node is missing the class_type property.",
                         "details": "Node ID '#%s'" % nid, "extra_info": {}}, {})
            if node["class_type"] not in CLASSES:
                return ({"type": "invalid_prompt",
                         "message": "Cannot execute because node %s does not exist." % node["class_type"],
                         "details": "Node ID '#%s'" % nid, "extra_info": {}}, {})
        outputs = [nid for nid, n in prompt.items() if n["class_type"] in OUTPUT_CLASSES]
        if not outputs:
            return ({"type": "prompt_no_outputs", "message": "Prompt has no outputs",
                     "details": "", "extra_info": {}}, {})
        node_errors = {}
        for nid, node in prompt.items():
            errs = self.validate_node(prompt, nid, node)
            if errs:
                node_errors[nid] = {"errors": errs, "dependent_outputs": outputs,
                                    "class_type": node["class_type"]}
        if not node_errors:
            return None, {}
        details = "\n".join("%s: %s" % (e["message"], e["details"])
                            for ne in node_errors.values() for e in ne["errors"])
        return ({"type": "prompt_outputs_failed_validation",
                 "message": "Prompt outputs failed validation",
                 "details": details, "extra_info": {}}, node_errors)

    def validate_node(self, prompt, nid, node):
        spec, _ = CLASSES[node["class_type"]]
        inputs = node.get("inputs") if isinstance(node.get("inputs"), dict) else {}
        errs = []
        for name, s in spec.items():
            if name not in inputs:
                errs.append(node_error("required_input_missing", "Required input is missing",
                                       name, name))
                continue
            v = inputs[name]
            kind = s[0]
            if kind == "link":
                if not (isinstance(v, list) and len(v) == 2 and str(v[0]) in prompt):
                    errs.append(node_error("bad_linked_input",
                                           "Bad linked input, must be a length-2 list of [string, int]",
                                           name, name))
                    continue
                src = prompt[str(v[0])]
                outs = CLASSES[src["class_type"]][1]
                if not isinstance(v[1], int) or not 0 <= v[1] < len(outs) or outs[v[1]] != s[1]:
                    got = outs[v[1]] if isinstance(v[1], int) and 0 <= v[1] < len(outs) else "?"
                    errs.append(node_error("return_type_mismatch",
                                           "Return type mismatch between linked nodes",
                                           "%s, received_type(%s) mismatch input_type(%s)" % (name, got, s[1]),
                                           name))
            elif kind == "list":
                if v not in s[1]:
                    errs.append(node_error("value_not_in_list", "Value not in list",
                                           "%s: '%s' not in %s" % (name, v, s[1]), name,
                                           {"input_config": [s[1]], "received_value": v}))
            elif kind in ("int", "float"):
                ok = isinstance(v, (int, float)) and not isinstance(v, bool)
                if kind == "int" and ok and float(v) != int(v):
                    ok = False
                if not ok:
                    errs.append(node_error("invalid_input_type",
                                           "Failed to convert an input value to a %s value" % kind.upper(),
                                           "%s, %s" % (name, v), name, {"received_value": v}))
                elif v < s[1]:
                    errs.append(node_error("value_smaller_than_min",
                                           "Value %s smaller than min of %s" % (v, s[1]), name, name,
                                           {"received_value": v}))
                elif v > s[2]:
                    errs.append(node_error("value_bigger_than_max",
                                           "Value %s bigger than max of %s" % (v, s[2]), name, name,
                                           {"received_value": v}))
            elif kind == "str":
                if not isinstance(v, str):
                    errs.append(node_error("invalid_input_type",
                                           "Failed to convert an input value to a STRING value",
                                           "%s, %s" % (name, v), name))
            elif kind == "image":
                if not isinstance(v, str) or v not in self.inputs:
                    errs.append(node_error("custom_validation_failed",
                                           "Custom validation failed for node",
                                           "image - Invalid image file: %s" % v, name))
        return errs

    # -- the worker --------------------------------------------------------

    def worker(self):
        with self.lock:
            while True:
                while not self.queue:
                    self.wake.wait()
                pid = self.queue.pop(0)
                p = self.prompts[pid]
                self.running = p
                self.stats["running"] = 1
                release = self.released
                deadline = time.monotonic() + self.cfg["job_ms"] / 1000.0
                while not p.interrupted:
                    if self.cfg["hold"]:
                        if self.released != release:
                            break
                        self.wake.wait(0.5)
                        continue
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self.wake.wait(left)
                self.running = None
                self.stats["running"] = 0
                self.finish(p)

    def finish(self, p):
        now = int(time.time() * 1000)
        msgs = [["execution_start", {"prompt_id": p.id, "timestamp": now}],
                ["execution_cached", {"nodes": [], "prompt_id": p.id, "timestamp": now}]]
        outputs = {}
        sampler = next((nid for nid, n in p.prompt.items() if n["class_type"] == "KSampler"), None)
        if p.interrupted:
            self.stats["interrupted"] += 1
            msgs.append(["execution_interrupted", {"prompt_id": p.id, "node_id": sampler,
                                                   "node_type": "KSampler", "executed": [],
                                                   "timestamp": now}])
            status = "error"
        elif self.rng.random() < self.cfg["fail_exec"]:
            self.stats["failed"] += 1
            msgs.append(["execution_error", {
                "prompt_id": p.id, "node_id": sampler, "node_type": "KSampler",
                "executed": [], "exception_message": "CUDA out of memory. Tried to allocate 2.00 GiB",
                "exception_type": "torch.cuda.OutOfMemoryError", "traceback": ["..."],
                "current_inputs": {}, "current_outputs": {}, "timestamp": now}])
            status = "error"
        else:
            self.stats["executed"] += 1
            n = self.cfg["image_size"]
            for nid, node in sorted(p.prompt.items()):
                if node["class_type"] not in OUTPUT_CLASSES:
                    continue
                self.counter += 1
                saved = node["class_type"] == "SaveImage"
                prefix = node["inputs"].get("filename_prefix", "ComfyUI") if saved else "ComfyUI_temp"
                name = "%s_%05d_.png" % (prefix, self.counter)
                kind = "output" if saved else "temp"
                digest = hashlib.sha256(json.dumps(p.prompt, sort_keys=True).encode()
                                        + nid.encode()).digest()
                self.outputs[("", name, kind)] = make_png(n, n, digest)
                outputs[nid] = {"images": [{"filename": name, "subfolder": "", "type": kind}]}
            msgs.append(["execution_success", {"prompt_id": p.id, "timestamp": now}])
            status = "success"
        self.history[p.id] = {
            "prompt": [p.number, p.id, p.prompt, {"client_id": p.client_id}, list(outputs)],
            "outputs": outputs,
            "status": {"status_str": status, "completed": status == "success",
                       "messages": msgs},
            "meta": {nid: {"node_id": nid, "display_node": nid, "parent_node": None,
                           "real_node_id": nid} for nid in outputs},
        }

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        threading.Thread(target=self.worker, daemon=True).start()

    def stop(self):
        self.server.shutdown()


class Server(ThreadingHTTPServer):
    request_queue_size = 64
    daemon_threads = True


LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-comfyui/1"

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, body, ctype="application/json"):
        fake = self.server.fake
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        with fake.lock:
            if not self.path.startswith("/_"):
                bs = fake.stats["by_status"]
                bs[str(code)] = bs.get(str(code), 0) + 1
        fake.log("%s %s %d" % (self.command, urlsplit(self.path).path, code))
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _raw_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _json_body(self, raw):
        try:
            return json.loads(raw.decode() or "{}")
        except (UnicodeDecodeError, ValueError):
            return None

    def _origin_refused(self):
        """create_origin_only_middleware: loopback Host, another Origin."""
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        origin = self.headers.get("Origin")
        if origin and host in LOOPBACK and urlsplit(origin).netloc != self.headers.get("Host"):
            with self.server.fake.lock:
                self.server.fake.stats["origin_refused"] += 1
            self._send(403, b"", "text/plain")
            return True
        return False

    def _path(self):
        url = urlsplit(self.path)
        path = url.path
        if path.startswith("/api/"):
            path = path[4:]
        return path, parse_qs(url.query)

    def do_GET(self):
        fake = self.server.fake
        path, query = self._path()
        if path == "/_stats":
            with fake.lock:
                d = json.loads(json.dumps(fake.stats))
                d["queued"] = len(fake.queue)
            if "1" not in query.get("bodies", []):
                del d["bodies"]
            return self._send(200, d)
        if path == "/_control":
            with fake.lock:
                return self._send(200, dict(fake.cfg))
        if self._origin_refused():
            return
        if path.startswith("/history/"):
            pid = path[len("/history/"):]
            with fake.lock:
                fake.stats["history_polls"] += 1
                h = fake.history.get(pid)
                body = {pid: h} if h else {}
            return self._send(200, body)
        if path == "/queue":
            with fake.lock:
                fake.stats["queue_polls"] += 1
                run = [fake.running] if fake.running else []
                pend = [fake.prompts[i] for i in fake.queue]
                body = {"queue_running": [[p.number, p.id, p.prompt, {}, []] for p in run],
                        "queue_pending": [[p.number, p.id, p.prompt, {}, []] for p in pend]}
            return self._send(200, body)
        if path == "/prompt":
            with fake.lock:
                n = len(fake.queue) + (1 if fake.running else 0)
            return self._send(200, {"exec_info": {"queue_remaining": n}})
        if path == "/view":
            name = query.get("filename", [""])[0]
            sub = query.get("subfolder", [""])[0]
            kind = query.get("type", ["output"])[0]
            if not name or name.startswith("/") or ".." in name or kind not in ("output", "input", "temp"):
                return self._send(400, b"", "text/plain")
            if ".." in sub or sub.startswith("/"):
                return self._send(403, b"", "text/plain")
            with fake.lock:
                data = (fake.inputs.get(name) if kind == "input"
                        else fake.outputs.get((sub, name, kind)))
                if data is not None:
                    fake.stats["views"] += 1
            if data is None:
                return self._send(404, b"", "text/plain")
            return self._send(200, data, "image/png")
        if path == "/system_stats":
            return self._send(200, {"system": {"os": "posix", "comfyui_version": "0.3.40-fake",
                                               "python_version": sys.version.split()[0]},
                                    "devices": [{"name": "cuda:0 fake", "type": "cuda",
                                                 "vram_total": 25769803776}]})
        return self._send(404, b"404: Not Found", "text/plain")

    def do_POST(self):
        fake = self.server.fake
        path, _ = self._path()
        raw = self._raw_body()
        if path == "/_control":
            return self._control(self._json_body(raw))
        if self._origin_refused():
            return
        if path == "/prompt":
            return self._prompt(self._json_body(raw))
        if path == "/upload/image":
            return self._upload(raw)
        if path == "/interrupt":
            body = self._json_body(raw) or {}
            with fake.lock:
                fake.stats["interrupts"] += 1
                p = fake.running
                want = body.get("prompt_id") if isinstance(body, dict) else None
                if p and (want is None or want == p.id):
                    p.interrupted = True
                    fake.wake.notify_all()
            return self._send(200, b"", "text/plain")
        if path == "/queue":
            body = self._json_body(raw)
            with fake.lock:
                if isinstance(body, dict) and body.get("clear"):
                    fake.stats["deleted"] += len(fake.queue)
                    fake.queue = []
                if isinstance(body, dict) and isinstance(body.get("delete"), list):
                    fake.stats["queue_deletes"] += 1
                    for pid in body["delete"]:
                        if pid in fake.queue:
                            fake.queue.remove(pid)
                            fake.stats["deleted"] += 1
            return self._send(200, b"", "text/plain")
        return self._send(404, b"404: Not Found", "text/plain")

    def _prompt(self, body):
        fake = self.server.fake
        key = self.headers.get("X-Loramake-Key")
        if not isinstance(body, dict) or "prompt" not in body:
            return self._send(400, {"error": {"type": "no_prompt", "message": "No prompt provided",
                                              "details": "No prompt provided", "extra_info": {}},
                                    "node_errors": {}})
        prompt = body["prompt"]
        with fake.lock:
            s = fake.stats
            s["submits_total"] += 1
            if key:
                s["submits_by_key"][key] = s["submits_by_key"].get(key, 0) + 1
            s["bodies"].append({"key": key, "body": shorten(body)})
            err, node_errors = (fake.validate(prompt) if isinstance(prompt, dict)
                                else ({"type": "invalid_prompt", "message": "Invalid prompt",
                                       "details": "", "extra_info": {}}, {}))
            if err:
                s["rejected"].append({"error": err, "node_errors": node_errors})
        if err:
            return self._send(400, {"error": err, "node_errors": node_errors})
        with fake.lock:
            p = Prompt()
            p.id = str(uuid.UUID(int=fake.rng.getrandbits(128), version=4))
            p.prompt = prompt
            p.client_id = body.get("client_id")
            p.interrupted = False
            fake.number += 1
            p.number = fake.number
            fake.prompts[p.id] = p
            fake.queue.append(p.id)
            fake.stats["max_queued"] = max(fake.stats["max_queued"], len(fake.queue))
            fake.wake.notify_all()
        return self._send(200, {"prompt_id": p.id, "number": p.number, "node_errors": {}})

    def _upload(self, raw):
        fake = self.server.fake
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("multipart/form-data"):
            return self._send(400, b"", "text/plain")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
        fields, image, filename = {}, None, None
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name == "image":
                image = part.get_payload(decode=True)
                filename = part.get_filename()
            elif name:
                fields[name] = part.get_payload(decode=True).decode()
        if image is None or not filename:
            return self._send(400, b"", "text/plain")
        if "/" in filename or ".." in filename or fields.get("type", "input") != "input":
            return self._send(400, b"", "text/plain")
        with fake.lock:
            name, i = filename, 1
            stem, ext = os.path.splitext(filename)
            overwrite = fields.get("overwrite", "").lower() in ("true", "1")
            while name in fake.inputs and fake.inputs[name] != image and not overwrite:
                name = "%s (%d)%s" % (stem, i, ext)
                i += 1
            fake.inputs[name] = image
            fake.stats["uploads"] += 1
            fake.stats["upload_names"].append(name)
        return self._send(200, {"name": name, "subfolder": fields.get("subfolder", ""),
                                "type": "input"})

    def _control(self, req):
        try:
            cfg = control(self.server.fake, SETTINGS, req)
        except (ValueError, TypeError) as e:
            return self._send(400, {"detail": str(e)})
        return self._send(200, cfg)


def main(argv=None):
    ap = arg_parser(__doc__, SETTINGS)
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    settings = {k: getattr(a, k) for k in SETTINGS}
    try:
        fake = Fake(port=a.port, log_path=a.log, **settings)
    except ValueError as e:
        print("comfyui_fake: %s" % e, file=sys.stderr)
        return 2
    return serve(fake)


if __name__ == "__main__":
    sys.exit(main())
