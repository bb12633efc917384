#!/usr/bin/env python3
"""Self-test of tests/fake/fal_server.py (stdlib unittest).

Runs the fake in-process on a free loopback port and drives it with
http.client / urllib.  Run: python3 tests/fake/test_fal_server.py
"""

import http.client
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import zlib
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import fal_server  # noqa: E402

KEY = "test-key"
AUTH = {"Authorization": "Key " + KEY}
TEST_DEFAULTS = {"fail_500": 0, "fail_kinds": ["500", "503", "503_nginx"],
                 "drop": 0, "truncate": 0, "burst_429": 0, "retry_after": 1,
                 "slow_ms": 0, "job_ms": 120, "queue_ms": 0, "job_fail": 0,
                 "validate_at_submit": False, "image_size": [64, 64], "seed": 1,
                 "urls_base": "", "request_id": "", "fail_detail": "",
                 "redirect_submit": "", "redirect_files": "",
                 "trickle_files": 0, "big_files": 0}
I2I = "fal-ai/flux/dev/image-to-image"
ULTRA = "fal-ai/flux-pro/v1.1-ultra"
NANO = "fal-ai/nano-banana-pro/edit"
SEEDVR = "fal-ai/seedvr/upscale/image"
QWEN = "fal-ai/qwen-image-edit-2511-multiple-angles"


def png_chunks(data):
    """List of (type, payload); raises ValueError on a broken PNG."""
    if data[:8] != fal_server.PNG_SIG:
        raise ValueError("no PNG signature")
    out, i = [], 8
    while i < len(data):
        if i + 8 > len(data):
            raise ValueError("truncated chunk header")
        n, t = struct.unpack(">I4s", data[i:i + 8])
        if i + 12 + n > len(data):
            raise ValueError("truncated chunk %r" % t)
        payload = data[i + 8:i + 8 + n]
        crc, = struct.unpack(">I", data[i + 8 + n:i + 12 + n])
        if crc != zlib.crc32(t + payload) & 0xFFFFFFFF:
            raise ValueError("bad CRC")
        out.append((t, payload))
        i += 12 + n
        if t == b"IEND":
            return out
    raise ValueError("no IEND")


class FakeFalTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.log = os.path.join(cls.tmp.name, "fal.log")
        cls.fake = fal_server.FakeFal(port=0, key=KEY, log_path=cls.log).start()
        cls.base = cls.fake.base
        cls.port = cls.fake.port

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()
        cls.tmp.cleanup()

    def setUp(self):
        st, _, _ = self.call("POST", "/_control", dict(TEST_DEFAULTS, reset=True),
                             auth=False)
        self.assertEqual(st, 200)

    # -- helpers ---------------------------------------------------------------

    def call(self, method, path, body=None, headers=None, auth=True, conn=None,
             raw=None):
        """(status, headers, parsed JSON or bytes).  path may be absolute."""
        if path.startswith("http"):
            u = urlsplit(path)
            self.assertEqual(u.netloc, "127.0.0.1:%d" % self.port)
            path = u.path + ("?" + u.query if u.query else "")
        h = dict(AUTH) if auth else {}
        h.update(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        own = conn is None
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            payload = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
        finally:
            if own:
                c.close()
        if hdrs.get("content-type", "").startswith("application/json"):
            payload = json.loads(payload)
        return r.status, hdrs, payload

    def submit(self, endpoint=ULTRA, body=None, **kw):
        if body is None:
            body = {"prompt": "a red fox"}
        return self.call("POST", "/" + endpoint, body, **kw)

    def wait_done(self, status_url, timeout=3.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            st, _, ans = self.call("GET", status_url + "?logs=0")
            if st == 200:
                return ans
            self.assertEqual(st, 202)
            time.sleep(0.02)
        self.fail("job never completed")

    def control(self, **kw):
        st, _, cfg = self.call("POST", "/_control", kw, auth=False)
        self.assertEqual(st, 200, cfg)
        return cfg

    def stats(self, bodies=False):
        st, _, s = self.call("GET", "/_stats" + ("?bodies=1" if bodies else ""),
                             auth=False)
        self.assertEqual(st, 200)
        return s

    # -- happy path ----------------------------------------------------------------

    def test_submit_status_result_happy_path(self):
        self.control(job_ms=600)
        st, h, sub = self.submit(ULTRA, {"prompt": "a red fox", "num_images": 2})
        self.assertEqual(st, 200)
        rid = sub["request_id"]
        self.assertEqual(h["x-fal-request-id"], rid)
        self.assertEqual(sub["status"], "IN_QUEUE")
        self.assertEqual(sub["queue_position"], 0)
        # follow-up URLs: owner/alias only, pointing back at this server
        prefix = "%s/fal-ai/flux-pro/requests/%s" % (self.base, rid)
        self.assertEqual(sub["response_url"], prefix)
        self.assertEqual(sub["status_url"], prefix + "/status")
        self.assertEqual(sub["cancel_url"], prefix + "/cancel")
        self.assertEqual(len(rid), 36)

        st, _, s = self.call("GET", sub["status_url"] + "?logs=0")
        self.assertEqual(st, 202)
        self.assertEqual(s["status"], "IN_PROGRESS")
        self.assertIn("logs", s)
        self.assertIsNone(s["logs"])
        st, _, s = self.call("GET", sub["status_url"] + "?logs=true")
        self.assertEqual(st, 202)
        self.assertIsInstance(s["logs"], list)
        self.assertEqual(s["logs"][0]["source"], "USER")

        st, _, r = self.call("GET", sub["response_url"])
        self.assertEqual((st, r), (400, {"detail": "Request is still in progress"}))

        done = self.wait_done(sub["status_url"])
        self.assertEqual(done["status"], "COMPLETED")
        self.assertIn("logs", done)
        self.assertIsNone(done["logs"])
        self.assertIn("inference_time", done["metrics"])
        self.assertNotIn("error", done)
        st, _, s = self.call("GET", sub["status_url"] + "?logs=1")
        self.assertEqual(st, 200)
        self.assertIsInstance(s["logs"], list)

        st, h, out = self.call("GET", sub["response_url"])
        self.assertEqual(st, 200)
        self.assertEqual(h["x-fal-request-id"], rid)
        self.assertEqual(out["prompt"], "a red fox")
        self.assertEqual(out["has_nsfw_concepts"], [False, False])
        self.assertIsInstance(out["seed"], int)
        self.assertEqual(len(out["images"]), 2)
        for img in out["images"]:
            self.assertEqual(img["content_type"], "image/png")
            self.assertEqual((img["width"], img["height"]), (64, 64))
            self.assertTrue(img["url"].startswith(self.base + "/files/"))
            st, fh, data = self.call("GET", img["url"], auth=False)
            self.assertEqual(st, 200)
            self.assertEqual(fh["content-type"], "image/png")
            self.assertEqual(int(fh["content-length"]), len(data))
            self.assertEqual(len(data), img["file_size"])
            chunks = png_chunks(data)
            w, hh = struct.unpack(">II", chunks[0][1][:8])
            self.assertEqual((w, hh), (64, 64))
        # the two images differ; the same name gives the same bytes
        a = self.call("GET", out["images"][0]["url"], auth=False)[2]
        b = self.call("GET", out["images"][1]["url"], auth=False)[2]
        self.assertNotEqual(a, b)
        self.assertEqual(a, self.call("GET", out["images"][0]["url"], auth=False)[2])

    def test_queue_phase_and_positions(self):
        self.control(job_ms=700, queue_ms=600)
        _, _, a = self.submit()
        _, _, b = self.submit()
        self.assertEqual((a["queue_position"], b["queue_position"]), (0, 1))
        st, _, s = self.call("GET", b["status_url"] + "?logs=1")
        self.assertEqual(st, 202)
        self.assertEqual(s["status"], "IN_QUEUE")
        self.assertEqual(s["queue_position"], 1)
        self.assertEqual(self.wait_done(b["status_url"])["status"], "COMPLETED")

    def test_keep_alive_reuses_connection(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            st, _, sub = self.submit(conn=c)
            sock = c.sock
            self.assertIsNotNone(sock)
            for _ in range(3):
                st, _, _ = self.call("GET", sub["status_url"] + "?logs=0", conn=c)
                self.assertIn(st, (200, 202))
            st, _, _ = self.call("GET", "/fal-ai/flux-pro/requests/nope", conn=c)
            self.assertEqual(st, 404)
            self.assertIs(c.sock, sock)   # never reconnected
        finally:
            c.close()

    def test_endpoint_output_shapes(self):
        png = "%s/files/x" % self.base  # unknown file: validation fails
        _, _, up = self.submit(SEEDVR, {"image_url": "https://example.com/a.png"})
        _, _, nb = self.submit(NANO, {"prompt": "p", "image_urls": ["https://e/x.png"]})
        _, _, qw = self.submit(QWEN, {"image_urls": ["data:image/png;base64,iVBORw0K"],
                                      "horizontal_angle": 90, "vertical_angle": -30})
        _, _, wf = self.submit("workflows/me/flow/run", {"prompt": "p"})
        self.assertIn("/fal-ai/seedvr/requests/", up["status_url"])
        self.assertIn("/fal-ai/nano-banana-pro/requests/", nb["status_url"])
        self.assertIn("/fal-ai/qwen-image-edit-2511-multiple-angles/requests/",
                      qw["status_url"])
        self.assertIn("/workflows/me/flow/requests/", wf["status_url"])
        for sub in (up, nb, qw, wf):
            self.wait_done(sub["status_url"])
        out = self.call("GET", up["response_url"])[2]
        self.assertIn("image", out)
        self.assertNotIn("images", out)
        self.assertEqual(out["image"]["content_type"], "image/png")
        out = self.call("GET", nb["response_url"])[2]
        self.assertEqual(len(out["images"]), 1)
        self.assertIn("description", out)
        out = self.call("GET", qw["response_url"])[2]
        self.assertEqual(len(out["images"]), 1)
        self.assertEqual(self.call("GET", wf["response_url"])[0], 200)
        # a client-given seed is echoed back
        _, _, s = self.submit(ULTRA, {"prompt": "p", "seed": 42})
        self.wait_done(s["status_url"])
        self.assertEqual(self.call("GET", s["response_url"])[2]["seed"], 42)
        # result URL referring to a file this server never had
        self.control(validate_at_submit=True)
        st, _, e = self.submit(SEEDVR, {"image_url": png})
        self.assertEqual(st, 422)
        self.assertEqual(e["detail"][0]["type"], "file_download_error")

    # -- auth, validation, unknown ids ------------------------------------------

    def test_401(self):
        for hdr in ({}, {"Authorization": "Key wrong"},
                    {"Authorization": "Bearer " + KEY}, {"Authorization": KEY}):
            st, _, body = self.call("POST", "/" + ULTRA, {"prompt": "x"},
                                    headers=hdr, auth=False)
            self.assertEqual(st, 401, hdr)
            self.assertIsInstance(body["detail"], str)
            st, _, _ = self.call("GET", "/fal-ai/flux-pro/requests/x/status",
                                 headers=hdr, auth=False)
            self.assertEqual(st, 401)
        s = self.stats()
        self.assertEqual(s["submits_total"], 0)
        self.assertEqual(s["auth_failures"], 8)
        self.assertEqual(s["by_status"]["401"], 8)

    def test_422_at_submit(self):
        self.control(validate_at_submit=True)
        cases = [
            (ULTRA, {}, "prompt", "missing"),
            (I2I, {"prompt": "p"}, "image_url", "missing"),
            (I2I, {"prompt": "p", "image_url": "https://e/x.png", "strength": 1.5},
             "strength", "less_than_equal"),
            (I2I, {"prompt": "p", "image_url": "https://e/x.png", "strength": -0.1},
             "strength", "greater_than_equal"),
            (NANO, {"prompt": "p"}, "image_urls", "missing"),
            (NANO, {"image_urls": ["https://e/x.png"]}, "prompt", "missing"),
            (QWEN, {"image_urls": ["https://e/x.png"], "vertical_angle": 91},
             "vertical_angle", "less_than_equal"),
            (SEEDVR, {"image_url": "https://e/x.png", "upscale_factor": 11},
             "upscale_factor", "less_than_equal"),
            (ULTRA, {"prompt": "p", "aspect_ratio": "5:7"}, "aspect_ratio",
             "literal_error"),
            (ULTRA, {"prompt": "a FORBIDDEN thing"}, "prompt",
             "content_policy_violation"),
        ]
        for ep, body, field, typ in cases:
            st, h, e = self.submit(ep, body)
            self.assertEqual(st, 422, (ep, body))
            self.assertIsInstance(e["detail"], list)
            d = e["detail"][0]
            self.assertEqual(d["loc"], ["body", field], (ep, body))
            self.assertEqual(d["type"], typ)
            self.assertIsInstance(d["msg"], str)
            self.assertEqual(h["x-fal-billable-units"], "0")
        st, _, e = self.call("POST", "/" + ULTRA, raw=b"{not json",
                             headers={"Content-Type": "application/json"})
        self.assertEqual(st, 422)
        self.assertEqual(e["detail"][0]["type"], "json_invalid")
        s = self.stats()
        self.assertEqual(s["submits_total"], 0)
        self.assertEqual(s["rejected_submits"], len(cases) + 1)

    def test_422_replayed_by_result(self):
        # default: the queue accepts anything; the model's 422 comes back
        # from the result endpoint (ENGINES.md 1.6, 1.10, 1.15)
        st, _, sub = self.submit(I2I, {"prompt": "p", "image_url": "https://e/x.png",
                                       "strength": 2})
        self.assertEqual(st, 200)
        done = self.wait_done(sub["status_url"])
        self.assertEqual(done["status"], "COMPLETED")
        self.assertEqual(done["error_type"], "less_than_equal")
        self.assertIn("error", done)
        st, _, e = self.call("GET", sub["response_url"])
        self.assertEqual(st, 422)
        self.assertEqual(e["detail"][0]["loc"], ["body", "strength"])
        _, _, sub = self.submit(ULTRA, {"prompt": "FORBIDDEN"})
        self.wait_done(sub["status_url"])
        st, _, e = self.call("GET", sub["response_url"])
        self.assertEqual(st, 422)
        self.assertEqual(e["detail"][0]["type"], "content_policy_violation")

    def test_unknown_ids_404(self):
        rid = "00000000-0000-4000-8000-000000000000"
        p = "/fal-ai/flux/requests/" + rid
        self.assertEqual(self.call("GET", p + "/status?logs=0")[::2],
                         (404, {"detail": "Request not found"}))
        self.assertEqual(self.call("GET", p)[::2], (404, {"detail": "Request not found"}))
        self.assertEqual(self.call("PUT", p + "/cancel")[::2],
                         (404, {"status": "NOT_FOUND"}))
        # a real id under the full endpoint path (a client bug) is not found
        _, _, sub = self.submit(I2I, {"prompt": "p", "image_url": "https://e/x.png"})
        bad = "/%s/requests/%s" % (I2I, sub["request_id"])
        self.assertEqual(self.call("GET", bad + "/status?logs=0")[0], 404)
        self.assertEqual(self.call("GET", bad)[0], 404)
        # unknown path
        st, _, e = self.call("GET", "/nothing")
        self.assertEqual(st, 404)
        self.assertEqual(e["detail"], "Path /nothing not found")

    def test_cancel(self):
        self.control(job_ms=5000)
        _, _, sub = self.submit()
        st, _, c = self.call("PUT", sub["cancel_url"])
        self.assertEqual((st, c), (202, {"status": "CANCELLATION_REQUESTED"}))
        st, _, s = self.call("GET", sub["status_url"] + "?logs=0")
        self.assertEqual(st, 200)
        self.assertEqual(s["status"], "COMPLETED")
        self.assertEqual(s["error"], "Request cancelled by the client.")
        st, _, r = self.call("GET", sub["response_url"])
        self.assertEqual((st, r), (499, {"detail": "Request cancelled by the client."}))
        st, _, c = self.call("PUT", sub["cancel_url"])
        self.assertEqual((st, c), (400, {"status": "ALREADY_COMPLETED"}))
        s = self.stats()
        self.assertEqual((s["cancels"], s["cancels_effective"], s["inflight"]), (2, 1, 0))

    def test_release_ms_lets_held_jobs_finish(self):
        self.control(job_ms=600000)
        _, _, held = self.submit()
        st, _, _ = self.call("GET", held["status_url"] + "?logs=0")
        self.assertEqual(st, 202)
        self.control(release_ms=0)
        self.wait_done(held["status_url"])
        # jobs submitted after the release are held again by job_ms
        _, _, later = self.submit()
        st, _, _ = self.call("GET", later["status_url"] + "?logs=0")
        self.assertEqual(st, 202)
        self.assertEqual(self.stats()["inflight"], 1)
        st, _, bad = self.call("POST", "/_control", {"release_ms": -1}, auth=False)
        self.assertEqual(st, 400, bad)

    # -- faults ------------------------------------------------------------------------

    def test_burst_429_with_retry_after(self):
        self.control(burst_429=2, retry_after=3)
        for _ in range(2):
            st, h, e = self.submit()
            self.assertEqual((st, e), (429, {"detail": "Rate limit exceeded"}))
            self.assertEqual(h["retry-after"], "3")
        st, _, _ = self.submit()
        self.assertEqual(st, 200)
        s = self.stats()
        self.assertEqual(s["submits_total"], 1)
        self.assertEqual(s["faults"]["burst_429"], 2)
        self.assertEqual(s["by_status"]["429"], 2)
        self.assertEqual(self.control()["burst_429"], 0)

    def test_fail_500_creates_no_job(self):
        self.control(fail_500=1.0, fail_kinds=["500"])
        st, h, e = self.submit()
        self.assertEqual((st, e), (500, {"detail": "Internal Server Error"}))
        self.control(fail_kinds=["503"])
        st, h, e = self.submit()
        self.assertEqual(st, 503)
        self.assertEqual(e["error_type"], "runner_scheduling_failure")
        self.assertEqual(h["x-fal-error-type"], "runner_scheduling_failure")
        self.control(fail_kinds=["503_nginx"])
        st, h, e = self.submit()
        self.assertEqual(st, 503)
        self.assertIn(b"nginx", e)
        self.assertNotIn("x-fal-request-id", h)
        s = self.stats()
        self.assertEqual(s["submits_total"], 0)
        self.assertEqual(s["errors_5xx"], 3)
        self.assertEqual(s["faults"]["fail"], 3)
        # cancel is not subject to fail_500
        self.assertEqual(self.call("PUT", "/a/b/requests/x/cancel")[0], 404)

    def test_job_fail_completes_with_error(self):
        self.control(job_fail=1.0)
        st, _, sub = self.submit()
        self.assertEqual(st, 200)
        done = self.wait_done(sub["status_url"])
        self.assertEqual(done["status"], "COMPLETED")
        self.assertIn("error", done)
        st, h, e = self.call("GET", sub["response_url"])
        self.assertEqual((st, e), (500, {"detail": "Internal Server Error"}))
        self.assertEqual(h["x-fal-request-id"], sub["request_id"])

    def test_drop_submit_creates_job(self):
        self.control(drop=1.0)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            c.request("POST", "/" + ULTRA, body=b'{"prompt":"p"}', headers=AUTH)
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            with self.assertRaises(http.client.IncompleteRead):
                r.read()
        finally:
            c.close()
        # urllib sees it too
        req = urllib.request.Request(self.base + "/fal-ai/flux-pro/requests/x/status",
                                     headers=AUTH)
        with self.assertRaises(http.client.IncompleteRead):
            try:
                urllib.request.urlopen(req, timeout=5).read()
            except urllib.error.HTTPError as e:
                e.read()
        self.control(drop=0)
        s = self.stats()
        self.assertEqual(s["submits_total"], 1)      # the job exists
        self.assertEqual(s["faults"]["drop"], 2)
        rid = s["submitted"][0]["request_id"]
        st, _, _ = self.call("GET", "/fal-ai/flux-pro/requests/%s/status" % rid)
        self.assertIn(st, (200, 202))

    def test_truncated_png(self):
        _, _, sub = self.submit()
        self.wait_done(sub["status_url"])
        url = self.call("GET", sub["response_url"])[2]["images"][0]["url"]
        full = self.call("GET", url, auth=False)[2]
        png_chunks(full)
        self.control(truncate=1.0)
        st, h, data = self.call("GET", url, auth=False)
        self.assertEqual(st, 200)
        self.assertEqual(int(h["content-length"]), len(data))  # consistent length
        self.assertLess(len(data), len(full))
        self.assertTrue(full.startswith(data))
        self.assertNotIn(b"IEND", data)
        with self.assertRaises(ValueError):
            png_chunks(data)
        self.assertEqual(self.stats()["faults"]["truncate"], 1)

    def test_slow_ms(self):
        self.control(slow_ms=150)
        t = time.monotonic()
        self.assertEqual(self.submit()[0], 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.14)

    def test_seeded_faults_are_deterministic(self):
        def run():
            self.control(reset=True, seed=7, fail_500=0.5, fail_kinds=["500"])
            codes = [self.submit()[0] for _ in range(12)]
            ids = [x["request_id"] for x in self.stats()["submitted"]]
            return codes, ids
        a, b = run(), run()
        self.assertEqual(a, b)
        self.assertIn(500, a[0])
        self.assertIn(200, a[0])

    def test_file_faults_do_not_depend_on_api_calls_between(self):
        png = fal_server.make_png(8, 8, bytes(range(32)))

        def cut_downloads(api_between):
            self.control(reset=True, seed=7, truncate=0.5)
            st, _, init = self.call("POST", "/storage/upload/initiate?storage_type=fal-cdn-v3",
                                    {"content_type": "image/png", "file_name": "r.png"})
            self.call("PUT", init["upload_url"], raw=png, auth=False,
                      headers={"Content-Type": "image/png"})
            cut = []
            for _ in range(12):
                for _ in range(api_between):
                    self.submit()
                try:
                    st, _, data = self.call("GET", init["file_url"], auth=False)
                    cut.append(data != png)
                except http.client.IncompleteRead:
                    cut.append(True)
            return cut
        alone = cut_downloads(0)
        self.assertEqual(alone, cut_downloads(3))
        self.assertIn(True, alone)
        self.assertIn(False, alone)

    def test_control_rejects_bad_input(self):
        st, _, e = self.call("POST", "/_control", {"nope": 1}, auth=False)
        self.assertEqual(st, 400)
        st, _, e = self.call("POST", "/_control", {"drop": 2}, auth=False)
        self.assertEqual(st, 400)
        self.assertEqual(self.control()["drop"], 0)

    # -- uploads, stats, log, CLI -------------------------------------------------------

    def test_upload_flow_a(self):
        st, _, init = self.call("POST", "/storage/upload/initiate?storage_type=fal-cdn-v3",
                                {"content_type": "image/png", "file_name": "ref.png"})
        self.assertEqual(st, 200)
        self.assertTrue(init["upload_url"].startswith(self.base))
        png = fal_server.make_png(8, 8, bytes(range(32)))
        st, _, _ = self.call("PUT", init["upload_url"], raw=png, auth=False,
                             headers={"Content-Type": "image/png"})
        self.assertEqual(st, 200)
        st, h, data = self.call("GET", init["file_url"], auth=False)
        self.assertEqual((st, data, h["content-type"]), (200, png, "image/png"))
        self.control(validate_at_submit=True)
        st, _, _ = self.submit(NANO, {"prompt": "p", "image_urls": [init["file_url"]]})
        self.assertEqual(st, 200)
        self.assertEqual(self.stats()["uploads"], 1)
        # initiate needs the key
        self.assertEqual(self.call("POST", "/storage/upload/initiate",
                                   {"file_name": "x.png"}, auth=False)[0], 401)

    def test_upload_multipart_and_cdn_token(self):
        st, _, init = self.call("POST", "/storage/upload/initiate-multipart",
                                {"content_type": "application/zip", "file_name": "d.zip"})
        self.assertEqual(st, 200)
        parts = []
        for n, chunk in ((1, b"a" * 1000), (2, b"b" * 10)):
            st, _, p = self.call("PUT", "%s/%d" % (init["upload_url"], n), raw=chunk,
                                 auth=False)
            self.assertEqual((st, p["partNumber"]), (200, n))
            parts.append({"partNumber": n, "etag": p["etag"]})
        st, _, _ = self.call("POST", init["upload_url"] + "/complete",
                             {"parts": parts}, auth=False)
        self.assertEqual(st, 200)
        self.assertEqual(self.call("GET", init["file_url"], auth=False)[2],
                         b"a" * 1000 + b"b" * 10)
        st, _, tok = self.call("POST", "/storage/auth/token?storage_type=fal-cdn-v3", {})
        self.assertEqual(st, 200)
        st, _, up = self.call("POST", "/files/upload", raw=b"xyz", auth=False,
                              headers={"Authorization": "Bearer " + tok["token"],
                                       "Content-Type": "text/plain",
                                       "X-Fal-File-Name": "t.txt"})
        self.assertEqual(st, 200)
        self.assertEqual(self.call("GET", up["access_url"], auth=False)[2], b"xyz")
        self.assertEqual(self.call("POST", "/files/upload", raw=b"x", auth=False,
                                   headers={"Authorization": "Bearer bad"})[0], 401)
        self.assertEqual(self.stats()["uploads"], 2)

    def test_stats_counting(self):
        self.control(job_ms=1000)
        for k in ("node-a", "node-b", "node-a"):
            self.assertEqual(self.submit(headers={"X-Loramake-Key": k})[0], 200)
        _, _, sub = self.submit(I2I, {"prompt": "q", "image_url": "https://e/x.png"})
        self.call("GET", sub["status_url"] + "?logs=0")
        threads = [threading.Thread(target=self.submit) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        s = self.stats(bodies=True)
        self.assertEqual(s["submits_total"], 8)
        self.assertEqual(s["submits_by_endpoint"], {ULTRA: 7, I2I: 1})
        self.assertEqual(s["submits_by_key"], {"node-a": 2, "node-b": 1})
        self.assertEqual(s["submits_without_key"], 5)
        self.assertEqual(s["submitted"][3]["prompt"], "q")
        self.assertEqual(s["bodies"][3]["body"]["image_url"], "https://e/x.png")
        self.assertEqual(s["status_polls"], 1)
        self.assertEqual(s["max_inflight"], 8)
        self.assertEqual(s["inflight"], 8)
        self.assertEqual(s["by_status"]["200"], 8)
        self.assertEqual(s["by_status"]["202"], 1)
        self.wait_done(sub["status_url"])
        self.call("GET", sub["response_url"])
        self.call("GET", "/fal-ai/flux/requests/nope")
        s = self.stats()
        self.assertEqual(s["results"], 2)
        self.assertEqual(s["errors_4xx"], 1)

    def test_log_file_has_no_key(self):
        self.submit(headers={"Authorization": "Key super-secret-value"}, auth=False)
        self.submit()
        with open(self.log) as f:
            text = f.read()
        self.assertIn("POST /%s 401" % ULTRA, text)
        self.assertIn("POST /%s 200" % ULTRA, text)
        self.assertNotIn("super-secret-value", text)
        self.assertNotIn(KEY, text)

    # -- hostile modes ---------------------------------------------------------------

    def test_hostile_urls_and_request_id(self):
        self.control(urls_base="http://127.0.0.1:9", request_id="$(touch /tmp/x)")
        st, _, sub = self.submit()
        self.assertEqual(st, 200)
        self.assertEqual(sub["request_id"], "$(touch /tmp/x)")
        self.assertEqual(sub["status_url"],
                         "http://127.0.0.1:9/fal-ai/flux-pro/requests/"
                         "%24%28touch%20%2Ftmp%2Fx%29/status")

    def test_hostile_fail_detail_echoes_headers(self):
        self.control(job_fail=1, job_ms=0, fail_detail="bad \x1b[2J {headers}")
        st, _, sub = self.submit()
        st, _, r = self.call("GET", sub["response_url"])
        self.assertEqual(st, 500)
        self.assertIn("\x1b[2J", r["detail"])
        self.assertIn("Authorization: Key " + KEY, r["detail"])

    def test_hostile_redirects(self):
        self.control(redirect_submit="http://192.0.2.1/x",
                     redirect_files="http://127.0.0.1:9")
        st, h, _ = self.submit()
        self.assertEqual((st, h["location"]), (307, "http://192.0.2.1/x"))
        self.assertEqual(self.stats()["submits_total"], 0)
        st, h, _ = self.call("GET", "/files/u/a/b.png", auth=False)
        self.assertEqual((st, h["location"]), (302, "http://127.0.0.1:9/files/u/a/b.png"))

    def _first_file(self):
        st, _, sub = self.submit()
        self.wait_done(sub["status_url"])
        return self.call("GET", sub["response_url"])[2]["images"][0]

    def test_hostile_big_and_trickled_files(self):
        self.control(job_ms=0)
        img = self._first_file()
        path = urlsplit(img["url"]).path
        self.control(big_files=1 << 20)
        st, h, data = self.call("GET", path, auth=False)
        self.assertEqual((st, int(h["content-length"]), len(data)),
                         (200, 1 << 20, 1 << 20))
        self.control(big_files=0, trickle_files=1)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            t0 = time.monotonic()
            c.request("GET", path)
            r = c.getresponse()
            self.assertEqual(int(r.getheader("Content-Length")), img["file_size"])
            self.assertEqual(len(r.read(3)), 3)
            self.assertGreaterEqual(time.monotonic() - t0, 0.4)
        finally:
            c.close()
        # only the next N: the one after comes whole and at once
        st, _, data = self.call("GET", path, auth=False)
        self.assertEqual(len(data), img["file_size"])

    def test_cli_port_line_and_sigterm(self):
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "fal_server.py"),
                              "--port", "0", "--key", "k2", "--job-ms", "50"],
                             stdout=subprocess.PIPE, text=True)
        try:
            line = p.stdout.readline()
            self.assertRegex(line, r"^PORT \d+\n$")
            port = int(line.split()[1])
            req = urllib.request.Request(
                "http://127.0.0.1:%d/fal-ai/flux-pro/v1.1-ultra" % port,
                data=b'{"prompt":"x"}', headers={"Authorization": "Key k2",
                                                 "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=5) as r:
                self.assertEqual(json.load(r)["status"], "IN_QUEUE")
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(5), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()


if __name__ == "__main__":
    unittest.main()
