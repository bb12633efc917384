#!/bin/sh
# t5200: package layouts checked by readers that are not loramake's
# (python3's tomllib, json, yaml if present, zipfile, unzip -t), file names
# by TRAINERS.md §0 item 7, manifest.json in every layout, and the
# normalisation: one square size, EXIF orientation baked in, alpha
# flattened, 8-bit RGB, originals untouched.
. "$(dirname "$0")/lib.sh"

# A set made of fixtures that need normalising: RGBA, EXIF-rotated,
# 16-bit grey with alpha, and a plain RGB scene.
test_expect_success 'setup' '
	mkdir r &&
	for f in rgba.png exif6.png grey16a.png scene.png; do
		cp "$SRC/tests/data/images/$f" r/ || exit 1
	done &&
	md5sum r/*.png >orig.md5 &&
	cat >r/recipe.yaml <<-EOF &&
	loramake: 1
	name: my_set
	trigger: LAYCHAR
	target: flux2
	anchor:
	  items:
	    alpha: { file: rgba.png, expression: neutral, framing: closeup }
	    rotated: { file: exif6.png, expression: "tired — heavy eyelids", framing: medium }
	    grey: { file: grey16a.png, expression: "wary — guarded gaze", framing: full }
	    scene_mask: { file: scene.png, expression: "furious — bared teeth", framing: back }
	package: { format: kohya, size: 64, repeats: 12, out: dist/kohya }
	EOF
	cat >check_png.py <<-PY
	import struct, sys, zlib
	def ihdr(path):
	    d = open(path, "rb").read()
	    assert d[:8] == b"\x89PNG\r\n\x1a\n", path
	    w, h, depth, ctype = struct.unpack(">IIBB", d[16:26])
	    chunks, i = [], 8
	    while i < len(d):
	        n = struct.unpack(">I", d[i:i + 4])[0]
	        chunks.append(d[i + 4:i + 8])
	        i += 12 + n
	    return w, h, depth, ctype, chunks
	for p in sys.argv[1:]:
	    w, h, depth, ctype, chunks = ihdr(p)
	    assert (w, h) == (64, 64), (p, w, h)
	    assert depth == 8 and ctype == 2, (p, depth, ctype)  # 8-bit RGB, no alpha
	    assert b"eXIf" not in chunks, p
	PY
'
test_expect_success 'kohya: the TOML parses, names a folder that exists, a caption beside every image' '
	lm r/recipe.yaml >out 2>err &&
	grep "dataset: r/dist/kohya" out &&
	python3 - <<-PY &&
	import os, re, tomllib
	root = "r/dist/kohya"
	t = tomllib.load(open(os.path.join(root, "dataset_config.toml"), "rb"))
	assert t["general"]["caption_extension"] == ".txt"
	ds = t["datasets"][0]
	assert ds["resolution"] == [64, 64] and ds["max_bucket_reso"] >= 64
	assert ds["max_bucket_reso"] % ds["bucket_reso_steps"] == 0
	sub = ds["subsets"][0]
	assert sub["image_dir"] == "12_LAYCHAR" and sub["num_repeats"] == 12, sub
	d = os.path.join(root, sub["image_dir"])
	imgs = sorted(f for f in os.listdir(d) if f.endswith(".png"))
	assert len(imgs) == 4, os.listdir(d)
	stems = set()
	for f in imgs:
	    stem = f[:-4]
	    cap = open(os.path.join(d, stem + ".txt"), encoding="utf-8").read()
	    assert cap.startswith("LAYCHAR") and "\n" not in cap, cap
	    assert re.fullmatch(r"my-set-\d{4}-[a-z0-9-]+", stem), stem
	    assert stem.count("_") == 0 and not stem.endswith(("mask", "masklabel", "condlabel")), stem
	    stems.add(stem)
	assert len(stems) == 4
	assert sorted(os.listdir(d)) == sorted(imgs + [s[:-4] + ".txt" for s in imgs])
	PY
	python3 check_png.py r/dist/kohya/12_LAYCHAR/*.png
'
test_expect_success 'normalisation left the originals untouched' '
	md5sum -c orig.md5
'
test_expect_success 'the manifest names every file with its hash, node, caption and seed' '
	python3 - <<-PY
	import hashlib, json, os, subprocess
	root = "r/dist/kohya"
	m = json.load(open(os.path.join(root, "manifest.json")))
	assert m["trigger"] == "LAYCHAR" and m["format"] == "kohya" and m["repeats"] == 12
	assert len(m["recipe_xxh128"]) == 32 and len(m["key"]) == 32
	assert len(m["files"]) == 4
	nodes = sorted(f["node"] for f in m["files"])
	assert nodes == ["anchor/alpha", "anchor/grey", "anchor/rotated", "anchor/scene_mask"], nodes
	for f in m["files"]:
	    assert os.path.exists(os.path.join(root, f["image"])), f
	    cap = open(os.path.join(root, f["caption_file"]), encoding="utf-8").read()
	    assert cap == f["caption"], f
	    assert "seed" in f
	    sum_ = subprocess.run(["xxhsum", "-H2", os.path.join(root, f["image"])],
	                          check=True, capture_output=True, text=True).stdout.split()[0]
	    assert f["image_xxh128"] == sum_, (f, sum_)
	    assert f["lineage"][-1]["file"].endswith(".png"), f["lineage"]
	PY
'
test_expect_success 'a rebuild in another layout replaces nothing it did not write' '
	mkdir -p r/dist/mine && echo keep >r/dist/mine/notes.txt &&
	sed -i "s|out: dist/kohya|out: dist/mine|" r/recipe.yaml &&
	expect_exit 1 lm r/recipe.yaml >out 2>err &&
	grep "cannot write the package: .*not a package loramake wrote.*; nothing was run" err &&
	test "$(cat r/dist/mine/notes.txt)" = keep
'
test_expect_success 'ai-toolkit: the snippet names the folder, captions beside images' '
	sed -i "s|format: kohya, size: 64, repeats: 12, out: dist/mine|format: ai-toolkit, size: 64, out: dist/aitk|" r/recipe.yaml &&
	lm r/recipe.yaml >out 2>err &&
	grep "folder_path: \"images\"" r/dist/aitk/dataset.yaml &&
	grep "caption_ext: \"txt\"" r/dist/aitk/dataset.yaml &&
	grep "trigger_word: \"LAYCHAR\"" r/dist/aitk/dataset.yaml &&
	python3 - <<-PY
	import os
	try:
	    import yaml
	except ImportError:
	    yaml = None
	root = "r/dist/aitk"
	if yaml:
	    y = yaml.safe_load(open(os.path.join(root, "dataset.yaml")))
	    d = y["datasets"][0]
	    assert d["folder_path"] == "images" and d["caption_ext"] == "txt"
	    assert d["resolution"] == [64] and y["trigger_word"] == "LAYCHAR"
	imgs = [f for f in os.listdir(os.path.join(root, "images")) if f.endswith(".png")]
	assert len(imgs) == 4
	for f in imgs:
	    assert os.path.exists(os.path.join(root, "images", f[:-4] + ".txt")), f
	assert os.path.exists(os.path.join(root, "manifest.json"))
	PY
'
test_expect_success 'imagefolder: train/metadata.jsonl parses line by line' '
	sed -i "s|format: ai-toolkit, size: 64, out: dist/aitk|format: imagefolder, size: 64, out: dist/hf|" r/recipe.yaml &&
	lm r/recipe.yaml >out 2>err &&
	python3 - <<-PY &&
	import json, os
	root = "r/dist/hf/train"
	lines = open(os.path.join(root, "metadata.jsonl"), encoding="utf-8").read().splitlines()
	assert len(lines) == 4, lines
	for line in lines:
	    row = json.loads(line)
	    assert set(row) == {"file_name", "text"}, row
	    assert os.path.exists(os.path.join(root, row["file_name"])), row
	    assert row["text"].startswith("LAYCHAR")
	assert not [f for f in os.listdir(root) if f.endswith(".txt")]
	assert os.path.exists("r/dist/hf/manifest.json")
	PY
	python3 check_png.py r/dist/hf/train/*.png
'
test_expect_success 'fal-zip: unzip -t passes; flat pairs and manifest.json' '
	sed -i "s|format: imagefolder, size: 64, out: dist/hf|format: fal-zip, size: 64|" r/recipe.yaml &&
	lm r/recipe.yaml >out 2>err &&
	grep "dataset: r/dist/my-set.zip" out &&
	unzip -tq r/dist/my-set.zip &&
	python3 - <<-PY
	import json, zipfile
	z = zipfile.ZipFile("r/dist/my-set.zip")
	names = z.namelist()
	assert "manifest.json" in names, names
	assert not [n for n in names if "/" in n], names
	pngs = [n for n in names if n.endswith(".png")]
	assert len(pngs) == 4
	for p in pngs:
	    assert p[:-4] + ".txt" in names
	m = json.loads(z.read("manifest.json"))
	assert m["format"] == "fal-zip" and len(m["files"]) == 4
	PY
'
test_expect_success 'a folder out: for a ZIP format is a recipe error' '
	sed -i "s|format: fal-zip, size: 64|format: kohya, size: 64, out: dist/k.zip|" r/recipe.yaml &&
	expect_exit 2 lm plan r/recipe.yaml 2>err &&
	grep "format kohya writes a folder" err
'
test_expect_success 'kohya: the folder keeps the trigger as written (10_miyomi_trader), as sd-scripts reads it back' '
	sed -i -e "s|format: kohya, size: 64, out: dist/k.zip|format: kohya, size: 64|" \
	    -e "s|^trigger: LAYCHAR$|trigger: miyomi_trader|" r/recipe.yaml &&
	grep "^trigger: miyomi_trader$" r/recipe.yaml &&
	lm r/recipe.yaml >out 2>err &&
	python3 - <<-PY
	import os, tomllib
	root = "r/dist/my_set"
	sub = tomllib.load(open(os.path.join(root, "dataset_config.toml"), "rb"))["datasets"][0]["subsets"][0]
	assert sub["image_dir"] == "10_miyomi_trader", sub
	assert sub["class_tokens"] == "miyomi_trader", sub
	assert os.path.isdir(os.path.join(root, "10_miyomi_trader")), os.listdir(root)
	# sd-scripts, config_util.py: tokens = name.split("_"); repeats, class tokens
	tokens = sub["image_dir"].split("_")
	assert int(tokens[0]) == 10 and "_".join(tokens[1:]) == "miyomi_trader", tokens
	PY
'
test_expect_success 'kohya: a trigger that cannot be a folder name is reduced, not refused' '
	sed -i "s|^trigger: miyomi_trader$|trigger: \"a/b:c\"|" r/recipe.yaml &&
	lm r/recipe.yaml >out 2>err &&
	test -d r/dist/my_set/10_a-b-c &&
	grep "class_tokens = \"a/b:c\"" r/dist/my_set/dataset_config.toml
'
test_done
