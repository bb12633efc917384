#!/usr/bin/env python3
"""bench/fake-alone.py ENGINE: the floor of bench/remote.sh's fake, without
loramake. JOBS (320) jobs at CONC (16) through 16 client threads on
keep-alive connections, each job as loramake's: fal submit, status polls,
result, image; Replicate create, polls, image; Gemini one call. Polls
start JOB_MS after the submit and come every 5 ms, so the client adds
almost nothing: what the wall time exceeds ceil(JOBS / CONC) * JOB_MS by
is the fake's (its GIL, http.server). Python 3 standard library only.

  python3 bench/fake-alone.py fal|replicate|gemini
"""
import base64
import http.client
import json
import os
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JOBS = int(os.environ.get("JOBS", 320))
CONC = int(os.environ.get("CONC", 16))
JOB_MS = int(os.environ.get("JOB_MS", 200))
FAKES = {"fal": "fal_server.py", "replicate": "replicate_fake.py",
         "gemini": "gemini_fake.py"}


def path_of(url, port):
    return url.split(":%d" % port, 1)[1]


def job_fal(c, port, image):
    h = {"Authorization": "Key k", "Content-Type": "application/json"}
    body = json.dumps({"prompt": "pose", "image_url": image, "strength": 0.5})
    t = time.monotonic()
    c.request("POST", "/fal-ai/flux/dev/image-to-image", body, h)
    r = json.loads(c.getresponse().read())
    polls = wait_until(t, lambda: status_of(c, path_of(r["status_url"], port) + "?logs=0", h) == 200)
    c.request("GET", path_of(r["response_url"], port), headers=h)
    res = json.loads(c.getresponse().read())
    c.request("GET", path_of(res["images"][0]["url"], port))
    c.getresponse().read()
    return polls


def job_replicate(c, port, image):
    h = {"Authorization": "Bearer k", "Content-Type": "application/json"}
    body = json.dumps({"input": {"prompt": "pose", "image": image}})
    t = time.monotonic()
    c.request("POST", "/v1/models/black-forest-labs/flux-dev/predictions", body, h)
    p = json.loads(c.getresponse().read())
    got = {}

    def done():
        c.request("GET", path_of(p["urls"]["get"], port), headers=h)
        got.update(json.loads(c.getresponse().read()))
        return got["status"] == "succeeded"
    polls = wait_until(t, done)
    out = got["output"]
    c.request("GET", path_of(out[0] if isinstance(out, list) else out, port))
    c.getresponse().read()
    return polls


def job_gemini(c, port, image):
    h = {"x-goog-api-key": "k", "Content-Type": "application/json"}
    b64 = image.split(",", 1)[1]
    body = json.dumps({"contents": [{"role": "user", "parts": [
        {"text": "pose"}, {"inlineData": {"mimeType": "image/png", "data": b64}}]}],
        "generationConfig": {"responseModalities": ["IMAGE"], "temperature": 1.0}})
    c.request("POST", "/v1beta/models/gemini-2.5-flash-image:generateContent", body, h)
    c.getresponse().read()
    return 0


def status_of(c, path, h):
    c.request("GET", path, headers=h)
    r = c.getresponse()
    r.read()
    return r.status


def wait_until(t0, done):
    time.sleep(max(0.0, t0 + JOB_MS / 1000.0 - time.monotonic()))
    polls = 1
    while not done():
        time.sleep(0.005)
        polls += 1
    return polls


def main():
    engine = sys.argv[1] if len(sys.argv) > 1 else ""
    if engine not in FAKES:
        sys.exit("usage: bench/fake-alone.py fal|replicate|gemini")
    fake = subprocess.Popen([sys.executable, os.path.join(TOP, "tests/fake", FAKES[engine]),
                             "--port", "0", "--key", "k", "--job-ms", str(JOB_MS)],
                            stdout=subprocess.PIPE, text=True)
    port = next(int(line.split()[1]) for line in fake.stdout if line.startswith("PORT "))
    hero = open(os.path.join(TOP, "recipes/jinx/keystones/hero.png"), "rb").read()
    image = "data:image/png;base64," + base64.b64encode(hero).decode()
    job = globals()["job_" + engine]
    left, lock, polls = [JOBS], threading.Lock(), [0]

    def client():
        c = http.client.HTTPConnection("127.0.0.1", port)
        while True:
            with lock:
                if not left[0]:
                    return
                left[0] -= 1
            n = job(c, port, image)
            with lock:
                polls[0] += n
    t = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(CONC)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.monotonic() - t
    ideal = -(-JOBS // CONC) * JOB_MS / 1000.0
    print("%s fake alone: %d jobs at %d in %.2f s (%.2fx the ideal %.1f s), %.1f polls a job"
          % (engine, JOBS, CONC, wall, wall / ideal, ideal, polls[0] / JOBS))
    fake.terminate()
    fake.wait()


if __name__ == "__main__":
    main()
