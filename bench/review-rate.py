#!/usr/bin/env python3
"""bench/review-rate.py BASE TOKEN thumb|obj: how many image requests a
second the review server answers. Every image of the state, once each
(the first of each dataset image; images the same bytes are asked again),
after a warm-up pass (so thumbnails are made already), over 8 keep-alive
connections at once. Prints "N requests in S s: R/s, MB MiB". Run by
bench/review.sh. Python 3 standard library only."""
import http.client
import json
import sys
import threading
import time
import urllib.parse

CONNECTIONS = 8


def fetch_all(base, paths):
    """GET each path on its own share of CONNECTIONS connections; the
    bytes received."""
    u = urllib.parse.urlsplit(base)
    got = [0] * CONNECTIONS
    errors = []

    def worker(k):
        c = http.client.HTTPConnection(u.hostname, u.port)
        for p in paths[k::CONNECTIONS]:
            c.request("GET", p)
            r = c.getresponse()
            body = r.read()
            if r.status != 200:
                errors.append("%d %s" % (r.status, p))
            got[k] += len(body)
        c.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("bench: %d requests failed, first: %s" % (len(errors), errors[0]))
    return sum(got)


def main():
    base, token, kind = sys.argv[1:4]
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port)
    c.request("GET", "/api/state?token=" + token)
    state = json.loads(c.getresponse().read())
    hashes = [n["outs"][0] for n in state["nodes"] if n["leaf"] and n["outs"]]
    paths = ["/%s/%s?token=%s" % (kind, h, token) for h in hashes]
    fetch_all(base, paths)  # warm-up: thumbnails made, files in the page cache
    t0 = time.monotonic()
    size = fetch_all(base, paths)
    s = time.monotonic() - t0
    print("%d requests in %.2f s: %.0f/s, %.1f MiB" % (len(paths), s, len(paths) / s, size / 2**20))


main()
