"""Small helpers the CLI tests use on `loramake plan --json` output.

    python3 planjson.py counts PLAN.json          kind counts of jobs to run
    python3 planjson.py keys PLAN.json            "id key" lines
    python3 planjson.py changed A.json B.json     ids whose key differs
    python3 planjson.py states PLAN.json          "id state reason" lines
    python3 planjson.py kept A.json B.json        ids in both whose key differs
    python3 planjson.py envs PLAN.json            images per environment place
"""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "counts":
        counts = {}
        for j in load(args[0])["jobs"]:
            if j["state"] in ("new", "stale"):
                counts[j["kind"]] = counts.get(j["kind"], 0) + 1
        for k in sorted(counts):
            print(k, counts[k])
    elif cmd == "keys":
        for j in load(args[0])["jobs"]:
            print(j["id"], j["key"])
    elif cmd == "changed":
        a = {j["id"]: j["key"] for j in load(args[0])["jobs"]}
        b = {j["id"]: j["key"] for j in load(args[1])["jobs"]}
        for i in sorted(set(a) | set(b)):
            if a.get(i) != b.get(i):
                print(i)
    elif cmd == "kept":
        a = {j["id"]: j["key"] for j in load(args[0])["jobs"]}
        b = {j["id"]: j["key"] for j in load(args[1])["jobs"]}
        for i in sorted(set(a) & set(b)):
            if a[i] != b[i]:
                print(i)
    elif cmd == "envs":
        counts = {}
        for j in load(args[0])["jobs"]:
            if "environment" in j:
                p = j["environment"]["place"]
                counts[p] = counts.get(p, 0) + 1
        for p in sorted(counts, key=lambda p: (counts[p], p)):
            print(counts[p], p)
    elif cmd == "states":
        for j in load(args[0])["jobs"]:
            print(j["id"], j["state"], j["reason"])
    else:
        sys.exit("unknown command " + cmd)


main()
