#!/bin/sh
# t5240: recipes/miyomi, seed 000 (an SDXL set in tags, shapes and a
# category mix): it builds with --engine preview; check passes count,
# framing, expressions and captions and reports the category mix within 2
# points of 40/25/20/15; every tag caption fits 77 CLIP tokens by the
# count docs/quality.md documents (re-implemented here from the page);
# the kohya TOML read by tomllib buckets, the sides of its images are multiples
# of 64 in more than one aspect ratio; plan warns before anything is paid
# when the planned set misses a mix target by more than 5 points.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: the recipe plans clean (no mix warning) and is ~120 images' '
	copy_recipe miyomi &&
	lm plan --json miyomi/recipe.yaml >plan.json 2>plan.err &&
	! grep "mix:" plan.err &&
	python3 - <<-PY
	import json
	jobs = json.load(open("plan.json"))["jobs"]
	caps = [j for j in jobs if j["kind"] == "caption"]
	assert 110 <= len(caps) <= 130, len(caps)
	# the text-to-image endpoint is asked for the aspect of each scene
	body = lambda i: [j for j in jobs if j["id"] == i][0]["request"]["body"]
	assert body("anchor/studio")["aspect_ratio"] == "2:3"
	assert body("anchor/charts")["aspect_ratio"] == "3:2"
	assert body("anchor/rooftop")["aspect_ratio"] == "9:16"
	assert len(set(j["caption"] for j in caps)) == len(caps), "captions repeat"
	PY
'
test_expect_success 'every tag caption: trigger first, tags, within 77 CLIP tokens as documented' '
	python3 - <<-\PY
	import json, math, re
	# docs/quality.md, "Token count": lowercase, the split CLIP makes; start and end
	# count 2, a contraction or a digit 1, up to 5 ASCII letters 1, longer
	# a token per 4 letters begun, anything else a token a byte
	split = re.compile(r"\x27s|\x27t|\x27re|\x27ve|\x27m|\x27ll|\x27d|[^\W\d_]+|\d|[^\s\w]+|_+", re.I)
	def tokens(text):
	    n = 2
	    for p in split.findall(text.lower()):
	        if re.fullmatch(r"\x27(s|t|re|ve|m|ll|d)|\d", p):
	            n += 1
	        elif re.fullmatch(r"[a-z]+", p):
	            n += 1 if len(p) <= 5 else math.ceil(len(p) / 4)
	        else:
	            n += len(p.encode())
	    return n
	caps = [j["caption"] for j in json.load(open("plan.json"))["jobs"] if j.get("caption")]
	worst = max(tokens(c) for c in caps)
	print("captions", len(caps), "most tokens", worst)
	for c in caps:
	    assert c.startswith("miyomi_trader, "), c
	    assert "." not in c, c
	    tags = [t.strip() for t in c.split(",")]
	    assert len(tags) == len(set(t.lower() for t in tags)), c
	    assert tokens(c) <= 77, (tokens(c), c)
	assert len(set(caps)) > len(caps) // 2, "captions should vary"
	PY
'
test_expect_success 'builds with --engine preview; check passes count, framing, expressions, captions; mix within 2 points' '
	lm --engine preview miyomi/recipe.yaml >out 2>err &&
	grep "dataset: miyomi/dist/miyomi" out &&
	lm check --json miyomi/recipe.yaml >check.json 2>check.err &&
	python3 - <<-\PY
	import json, re
	c = json.load(open("check.json"))
	rules = {r["rule"]: r for r in c["rules"]}
	for name in ("count", "framing", "expressions", "captions"):
	    assert rules[name]["status"] == "pass", rules[name]
	mix = rules["mix"]
	assert mix["status"] == "pass", mix
	want = {"portrait": 40, "trading": 25, "nyc": 20, "lifestyle": 15}
	got = dict((k, float(v)) for k, v in re.findall(r"(\w+) ([\d.]+)% \(want", mix["figure"]))
	assert set(got) == set(want), (got, mix)
	for k in want:
	    assert abs(got[k] - want[k]) <= 2, (k, got[k], mix)
	print(mix["figure"])
	print(rules["buckets"]["figure"])
	PY
'
test_expect_success 'kohya: tomllib reads bucketing on; sides multiples of 64 in two or more aspect ratios' '
	python3 - <<-\PY
	import glob, os, struct, tomllib
	from fractions import Fraction
	root = "miyomi/dist/miyomi"
	ds = tomllib.load(open(os.path.join(root, "dataset_config.toml"), "rb"))["datasets"][0]
	assert ds["enable_bucket"] is True, ds
	assert ds["resolution"] == [512, 768], ds
	assert ds["min_bucket_reso"] % 64 == 0 and ds["max_bucket_reso"] % 64 == 0, ds
	ratios = {}
	pngs = glob.glob(os.path.join(root, "10_miyomi_trader", "*.png"))
	assert 110 <= len(pngs) <= 130, len(pngs)
	for p in pngs:
	    w, h = struct.unpack(">II", open(p, "rb").read()[16:24])
	    assert w % 64 == 0 and h % 64 == 0, (p, w, h)
	    assert ds["min_bucket_reso"] <= min(w, h) and max(w, h) <= ds["max_bucket_reso"]
	    r = Fraction(w, h)
	    ratios[r] = ratios.get(r, 0) + 1
	    assert os.path.exists(p[:-4] + ".txt"), p
	print({f"{r.numerator}:{r.denominator}": n for r, n in ratios.items()})
	assert len(ratios) >= 2 and min(ratios.values()) >= 2, ratios
	PY
'
test_expect_success 'plan warns, before anything is paid, when the set misses a mix target by more than 5 points' '
	sed "s/portrait: 40, trading: 25/portrait: 50, trading: 15/" miyomi/recipe.yaml >miyomi/off.yaml &&
	lm plan miyomi/off.yaml >off.out 2>off.err &&
	grep "mix: category portrait is 40% of the planned set (48 of 120 images), more than 5 points off its 50%" off.err &&
	grep "mix: category trading is 25% of the planned set" off.err &&
	! grep "mix: category nyc" off.err
'
test_done
