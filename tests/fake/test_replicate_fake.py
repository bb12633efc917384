#!/usr/bin/env python3
"""Self-test of tests/fake/replicate_fake.py (stdlib unittest).

Runs the fake in-process on a free loopback port and drives it with
http.client, as test_fal_server.py does the fal fake: the predictions API
(create by model and by version, poll, cancel, outputs), its RFC 7807
errors (401, 404, 422, 429 with Retry-After and retry_after), the files
API (upload, file object, 400, 413, an unknown file as an input) and the
faults the CLI tests lean on (cut_files, truncate, drop, job_fail).
Run: python3 tests/fake/test_replicate_fake.py
"""

import hashlib
import http.client
import json
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import replicate_fake  # noqa: E402

KEY = "r8-test"
AUTH = {"Authorization": "Bearer " + KEY}
MODEL = "/v1/models/black-forest-labs/flux-dev/predictions"
LORA_MODEL = "/v1/models/black-forest-labs/flux-dev-lora/predictions"
VERSION = "5f24084160c9089501c1b3545d9be3c27883ae2239b6f412990e82d4a6210f8f"
BOUNDARY = "selftest-b0undary"


def multipart(name, filename, ctype, data):
    head = ('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
            'Content-Type: %s\r\n\r\n' % (BOUNDARY, name, filename, ctype)).encode()
    return head + data + ("\r\n--%s--\r\n" % BOUNDARY).encode()


class FakeReplicateTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.fake = replicate_fake.Fake(port=0, key=KEY, job_ms=80)
        cls.fake.start()
        cls.base = cls.fake.base

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.control({"reset": True, "job_ms": 80, "fail_500": 0, "drop": 0,
                      "truncate": 0, "cut_files": 0, "burst_429": 0,
                      "job_fail": 0, "output_list": True, "files_url_base": ""})

    # -- plumbing ------------------------------------------------------------

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=10)
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body, h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict(r.getheaders()), data

    def json(self, method, path, body=None, headers=None):
        status, hdrs, data = self.request(method, path, body, headers)
        return status, hdrs, json.loads(data) if data else None

    def control(self, settings):
        status, _, cfg = self.json("POST", "/_control", settings)
        self.assertEqual(status, 200, cfg)
        return cfg

    def stats(self):
        return self.json("GET", "/_stats")[2]

    def create(self, inp=None, path=MODEL, body=None):
        return self.json("POST", path, body or {"input": inp or {"prompt": "a cat"}}, AUTH)

    def wait_done(self, pred):
        path = pred["urls"]["get"][len(self.base):]
        for _ in range(200):
            status, _, pred = self.json("GET", path, headers=AUTH)
            self.assertEqual(status, 200)
            if pred["status"] in ("succeeded", "failed", "canceled"):
                return pred
            time.sleep(0.02)
        self.fail("the prediction never finished")

    def upload(self, data, name="content", ctype=None):
        return self.json("POST", "/v1/files", multipart(name, "in.png", "image/png", data),
                         dict(AUTH, **{"Content-Type": ctype or
                                       "multipart/form-data; boundary=" + BOUNDARY}))

    # -- predictions ---------------------------------------------------------

    def test_create_poll_succeed_download(self):
        status, _, pred = self.create()
        self.assertEqual(status, 201)
        self.assertIn(pred["status"], ("starting", "processing"))
        self.assertTrue(pred["urls"]["get"].startswith(self.base + "/v1/predictions/"))
        pred = self.wait_done(pred)
        self.assertEqual(pred["status"], "succeeded")
        self.assertIsInstance(pred["output"], list)
        status, hdrs, png = self.request("GET", pred["output"][0][len(self.base):])
        self.assertEqual(status, 200)
        self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n") and png.endswith(b"IEND\xaeB`\x82"))
        self.assertEqual(int(hdrs["Content-Length"]), len(png))
        self.assertEqual(self.stats()["submits_total"], 1)

    def test_pinned_version_and_one_url_output(self):
        self.control({"output_list": False})
        status, _, pred = self.create(path="/v1/predictions",
                                      body={"version": VERSION, "input": {"prompt": "x"}})
        self.assertEqual(status, 201)
        self.assertIsInstance(self.wait_done(pred)["output"], str)
        status, _, err = self.create(path="/v1/predictions", body={"version": "nothex", "input": {}})
        self.assertEqual(status, 422)
        self.assertEqual(err["status"], 422)

    def test_errors_are_rfc7807(self):
        status, _, err = self.json("POST", MODEL, {"input": {}}, {"Authorization": "Bearer no"})
        self.assertEqual((status, err["status"]), (401, 401))
        self.assertIn("authentication token", err["detail"])
        status, _, err = self.json("GET", "/v1/predictions/nosuch", headers=AUTH)
        self.assertEqual((status, err["title"]), (404, "Not found"))
        status, _, err = self.create(body={"input": "not an object"})
        self.assertEqual(status, 422)
        self.assertIn("input", err["detail"])

    def test_429_says_when_to_come_back(self):
        self.control({"burst_429": 1, "retry_after": 3})
        status, hdrs, err = self.create()
        self.assertEqual(status, 429)
        self.assertEqual(hdrs["Retry-After"], "3")
        self.assertEqual(err["retry_after"], 3)
        self.assertEqual(self.create()[0], 201)

    def test_cancel(self):
        self.control({"job_ms": 5000})
        _, _, pred = self.create()
        status, _, pred = self.json("POST", pred["urls"]["cancel"][len(self.base):], headers=AUTH)
        self.assertEqual((status, pred["status"]), (200, "canceled"))
        self.assertEqual(self.stats()["cancels_effective"], 1)

    def test_job_fail(self):
        self.control({"job_fail": 1})
        pred = self.wait_done(self.create()[2])
        self.assertEqual(pred["status"], "failed")
        self.assertTrue(pred["error"])

    # -- the files API -------------------------------------------------------

    def test_upload_gives_a_file_object_and_its_url_is_an_input(self):
        data = bytes(range(256)) * 40 + b"\r\n--not-the-boundary\r\n"
        status, _, f = self.upload(data)
        self.assertEqual(status, 201, f)
        self.assertEqual(f["size"], len(data))
        self.assertEqual(f["checksums"]["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(f["content_type"], "image/png")
        self.assertTrue(f["urls"]["get"].startswith(self.base + "/v1/files/"))
        status, _, again = self.json("GET", f["urls"]["get"][len(self.base):], headers=AUTH)
        self.assertEqual((status, again["id"]), (200, f["id"]))
        self.assertEqual(self.create({"prompt": "x", "input_image": f["urls"]["get"]})[0], 201)
        s = self.stats()
        self.assertEqual((s["uploads"], s["upload_bytes"]), (1, len(data)))

    def test_files_api_errors(self):
        status, _, err = self.json("POST", "/v1/files", multipart("content", "a", "image/png", b"x"),
                                   {"Content-Type": "multipart/form-data; boundary=" + BOUNDARY})
        self.assertEqual((status, err["status"]), (401, 401))
        status, _, err = self.upload(b"x", name="other")
        self.assertEqual((status, err["status"]), (400, 400))
        status, _, err = self.upload(b"x", ctype="application/json")
        self.assertEqual(status, 400)
        self.control({"max_file_bytes": 10})
        status, _, err = self.upload(b"x" * 100)
        self.assertEqual((status, err["status"]), (413, 413))
        self.control({"max_file_bytes": 100 << 20})
        status, _, err = self.create({"prompt": "x",
                                      "input_image": self.base + "/v1/files/neveruploaded"})
        self.assertEqual(status, 422)
        self.assertIn("file not found", err["detail"])
        self.assertEqual(self.stats()["uploads"], 0)

    def test_files_url_base_answers_another_host(self):
        self.control({"files_url_base": "http://127.0.0.2:9"})
        status, _, f = self.upload(b"abc")
        self.assertEqual(status, 201)
        self.assertTrue(f["urls"]["get"].startswith("http://127.0.0.2:9/v1/files/"))

    # -- a LoRA model (validate:) --------------------------------------------

    def lora_create(self, inp):
        return self.create(dict({"prompt": "TOK in a park"}, **inp), path=LORA_MODEL)

    def test_lora_model_takes_an_uploaded_safetensors_file(self):
        lora = replicate_fake.safetensors_blob("selftest")
        status, _, f = self.upload(lora)
        self.assertEqual(status, 201, f)
        status, _, pred = self.lora_create({"lora_weights": f["urls"]["get"],
                                            "lora_scale": 0.8, "num_outputs": 1})
        self.assertEqual(status, 201, pred)
        pred = self.wait_done(pred)
        self.assertEqual(pred["status"], "succeeded")
        self.assertIsInstance(pred["output"], list)
        up = self.stats()["uploaded"]
        self.assertEqual(len(up), 1)
        self.assertEqual((up[0]["url"], up[0]["size"], up[0]["sha256"]),
                         (f["urls"]["get"], len(lora), hashlib.sha256(lora).hexdigest()))

    def test_lora_model_refuses_what_is_no_lora_it_holds(self):
        _, _, png = self.upload(b"\x89PNG\r\n\x1a\n" + b"x" * 64)
        bad = {"https://example.com/lora.safetensors": "takes only a file uploaded",
               png["urls"]["get"]: "not a safetensors file",
               self.base + "/v1/files/neveruploaded": "file not found"}
        for url, words in bad.items():
            status, _, err = self.lora_create({"lora_weights": url})
            self.assertEqual((status, err["status"], err["title"]),
                             (422, 422, "Input validation failed"), err)
            self.assertTrue(err["detail"].startswith("- input.lora_weights: "), err)
            self.assertIn(words, err["detail"])
        # a truncated frame: the header's length runs past the bytes
        cut = replicate_fake.safetensors_blob("cut")
        _, _, f = self.upload(cut[:-20])
        status, _, err = self.lora_create({"lora_weights": f["urls"]["get"]})
        self.assertEqual(status, 422, err)
        self.assertIn("not a safetensors file", err["detail"])
        self.assertEqual(self.stats()["submits_total"], 0)

    def test_lora_model_bounds_its_scale_and_outputs(self):
        _, _, f = self.upload(replicate_fake.safetensors_blob("b"))
        for inp, field in (({"lora_scale": 3.5}, "lora_scale"),
                           ({"lora_scale": "1"}, "lora_scale"),
                           ({"num_outputs": 5}, "num_outputs"),
                           ({"num_outputs": 1.5}, "num_outputs")):
            status, _, err = self.lora_create(dict(inp, lora_weights=f["urls"]["get"]))
            self.assertEqual(status, 422, (inp, err))
            self.assertEqual(err["invalid_fields"], [{"field": "input." + field}])
        # the same LoRA URL on another model is only a string
        self.assertEqual(self.create({"prompt": "x", "lora_weights": "anything"})[0], 201)

    # -- faults of the downloads ---------------------------------------------

    def test_cut_files_cut_the_next_downloads_content_length_and_all(self):
        pred = self.wait_done(self.create()[2])
        path = pred["output"][0][len(self.base):]
        whole = self.request("GET", path)[2]
        self.control({"cut_files": 2})
        for _ in range(2):
            status, hdrs, cut = self.request("GET", path)
            self.assertEqual(status, 200)
            self.assertEqual(int(hdrs["Content-Length"]), len(cut))
            self.assertEqual(cut, whole[:len(whole) // 2])
        self.assertEqual(self.request("GET", path)[2], whole)
        self.assertEqual(self.stats()["faults"]["truncate"], 2)


if __name__ == "__main__":
    unittest.main()
