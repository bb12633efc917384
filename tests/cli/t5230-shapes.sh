#!/bin/sh
# t5230: shapes (docs/recipe.md "aspect:", "package: size:"): an item's or
# section's aspect reaches the endpoints that take one (aspect_ratio or
# image_size, compiler/engine_type.c) and only them, and is in their keys;
# the package cuts each image to its aspect's bucket at the package's
# area (multiples of 64), the kohya TOML buckets them, check reports the
# buckets; recipes that set no aspect keep every key (tests/data/recipe-keys,
# written by loramake before shapes).
. "$(dirname "$0")/lib.sh"
pj() { python3 "$SRC/tests/data/planjson.py" "$@"; }

test_expect_success 'setup' '
	mkdir r &&
	cat >r/recipe.yaml <<-EOF
	loramake: 1
	name: shapes
	trigger: shp_trigger
	target: sdxl
	engines:
	  fal: { type: fal }
	anchor:
	  model: fal-ai/flux-pro/v1.1-ultra
	  aspect: 2:3
	  items:
	    portrait: { text: a portrait, framing: closeup }
	    portrait_b: { text: another portrait, framing: closeup }
	    desk: { text: at a desk, framing: medium, aspect: 16:9 }
	    desk_b: { text: at another desk, framing: medium, aspect: 16:9 }
	    square: { text: a square thing, framing: full, aspect: 1:1 }
	    square_b: { text: a square vase, framing: full, aspect: 1:1 }
	angle:
	  model: fal-ai/qwen-image-edit-2511-multiple-angles
	  items:
	    front: { from: anchor/square, framing: full, aspect: 9:16 }
	    profile_left: { from: anchor/desk, framing: medium }
	package: { format: kohya, size: 512 x 768 }
	EOF
'
test_expect_success 'plan --json: aspect_ratio to ultra, image_size to multiple-angles, nothing for an inherited aspect' '
	lm plan --json r/recipe.yaml >plan.json 2>err &&
	python3 - <<-PY
	import json
	jobs = {j["id"]: j for j in json.load(open("plan.json"))["jobs"]}
	body = lambda i: jobs[i]["request"]["body"]
	assert body("anchor/portrait")["aspect_ratio"] == "2:3", body("anchor/portrait")
	assert body("anchor/desk")["aspect_ratio"] == "16:9"
	assert body("anchor/square")["aspect_ratio"] == "1:1"
	assert body("angle/front")["image_size"] == {"width": 768, "height": 1344}, body("angle/front")
	# an edit keeps its input shape: the endpoint default, nothing sent
	assert "image_size" not in body("angle/profile_left"), body("angle/profile_left")
	PY
'
test_expect_success 'an aspect is in the key of a node that sends it, and only there' '
	sed "s/aspect: 2:3/aspect: 3:4/" r/recipe.yaml >r/b.yaml &&
	lm plan --json r/b.yaml >b.json 2>err &&
	pj changed plan.json b.json >changed &&
	printf "%s\n" anchor/portrait anchor/portrait_b package >want &&
	sort changed | diff want - &&
	sed "s/front: { from: anchor\/square, framing: full, aspect: 9:16 }/front: { from: anchor\/square, framing: full }/" r/recipe.yaml >r/c.yaml &&
	lm plan --json r/c.yaml >c.json 2>err &&
	pj changed plan.json c.json >changed &&
	printf "%s\n" angle/front package >want &&
	sort changed | diff want -
'
test_expect_success 'preview build: kohya images cut to their buckets, TOML bucketing on (tomllib)' '
	lm --engine preview r/recipe.yaml >out 2>err &&
	python3 - <<-PY
	import glob, os, struct, tomllib
	root = "r/dist/shapes"
	ds = tomllib.load(open(os.path.join(root, "dataset_config.toml"), "rb"))["datasets"][0]
	assert ds["enable_bucket"] is True and ds["resolution"] == [512, 768], ds
	assert ds["bucket_reso_steps"] == 64 and ds["bucket_no_upscale"] is True, ds
	sides = {}
	for p in sorted(glob.glob(os.path.join(root, "10_shp_trigger", "*.png"))):
	    w, h = struct.unpack(">II", open(p, "rb").read()[16:24])
	    assert w % 64 == 0 and h % 64 == 0, (p, w, h)
	    assert ds["min_bucket_reso"] <= min(w, h) and max(w, h) <= ds["max_bucket_reso"], (p, w, h, ds)
	    sides[os.path.basename(p)] = (w, h)
	# anchor/desk and anchor/square are edited by the angles: not in the set
	want = {"portrait": (512, 768), "portrait-b": (512, 768), "desk-b": (832, 448),
	        "square-b": (576, 576), "front": (448, 832), "profile-left": (832, 448)}
	got = {k.split("-", 2)[2][:-4]: v for k, v in sides.items()}
	assert got == want, got
	PY
'
test_expect_success 'check reports the buckets and warns about a bucket of one image' '
	expect_exit 1 lm check --json r/recipe.yaml >check.json 2>err &&
	python3 - <<-PY
	import json
	rules = {r["rule"]: r for r in json.load(open("check.json"))["rules"]}
	b = rules["buckets"]
	assert b["status"] == "warn", b
	for part in ("4 buckets", "512x768 (2)", "832x448 (2)", "576x576 (1)", "448x832 (1)"):
	    assert part in b["figure"], b
	assert "resolution" in rules
	PY
'
test_expect_success 'recipes without aspect: or size: W x H keep every key, and the preview keys too' '
	for n in fitmannequin jinx maya quickstart sandra; do
		copy_recipe $n &&
		lm plan --json $n/recipe.yaml >$n.json 2>$n.err &&
		pj keys $n.json >$n.keys &&
		diff "$SRC/tests/data/recipe-keys/$n" $n.keys &&
		lm --engine preview plan --json $n/recipe.yaml >$n.p.json 2>$n.perr &&
		pj keys $n.p.json >$n.pkeys &&
		diff "$SRC/tests/data/recipe-keys/$n.preview" $n.pkeys || return 1
	done
'
test_expect_success 'size: [W, H] and W x H are one setting; a square is size: SIDE' '
	sed "s/size: 512 x 768/size: [512, 768]/" r/recipe.yaml >r/l.yaml &&
	lm plan --json r/l.yaml >l.json 2>err &&
	pj changed plan.json l.json >changed &&
	! test -s changed &&
	copy_recipe jinx &&
	sed "s/size: 1024, out/size: 1024 x 1024, out/" jinx/recipe.yaml >jinx/sq.yaml &&
	grep "1024 x 1024" jinx/sq.yaml &&
	lm plan --json jinx/sq.yaml >sq.json 2>err &&
	pj keys sq.json >sq.keys &&
	diff "$SRC/tests/data/recipe-keys/jinx" sq.keys
'
test_expect_success 'a local upscale to W x H cuts its image to those sides' '
	sed "s/^package: .*/upscale: { size: 448 x 640 }\npackage: { format: kohya, size: 512 x 768 }/" r/recipe.yaml >r/u.yaml &&
	grep "upscale: { size: 448 x 640 }" r/u.yaml &&
	lm --engine preview r/u.yaml >out 2>err &&
	python3 - <<-PY
	import struct
	w, h = struct.unpack(">II", open("r/build/upscale/portrait.png", "rb").read()[16:24])
	assert (w, h) == (448, 640), (w, h)
	PY
'
test_done
