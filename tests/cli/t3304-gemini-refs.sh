#!/bin/sh
# t3304: recipes/jinx-gemini (seed 004's pipeline, Pass 2 on Gemini
# directly) builds against the fake fal and the fake Gemini; and refs:
# (seed 004's keystone method): each edit sends its source and its refs,
# in order, as Gemini inlineData parts, fal image_urls and Replicate
# image_input; refs are in the key (a changed keystone remakes exactly the
# images that send it); a keystone used only as a ref stays a dataset
# image; plan --json and explain show them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gemini-lib.sh"
start_other --job-ms 50 || exit 1
start_gemini --job-ms 50 || exit 1
export GEMINI_API_KEY=$GEMINI_TEST_KEY FAL_KEY=$FAL_TEST_KEY

test_expect_success 'recipes/jinx-gemini: angles and upscales on fal, the 21 expressions on Gemini, one image each' '
	copy_recipe jinx-gemini &&
	sed -i -e "s|^  fal: {.*}|  fal: { type: fal, url: \"$OTHER_URL\", concurrency: 16 }|" \
		-e "s|^  gem: {.*}|  gem: { type: gemini, url: \"$FAKE_URL\", concurrency: 8 }|" jinx-gemini/recipe.yaml &&
	lm jinx-gemini/recipe.yaml >out 2>err &&
	grep -E "^90 nodes built in .*, 0 failed$" out &&
	test "$(fake_stat "d[\"calls_total\"]")" = 21 &&
	test "$(other_stat "d[\"submits_total\"]")" = 40 &&
	fake_bodies "d[\"bodies\"]" >bodies.json &&
	python3 - <<-PY &&
	import json
	bodies = json.load(open("bodies.json"))
	for b in bodies:
	    assert b["model"] == "gemini-3-pro-image-preview" and b["images"] == 1, b
	    gc = b["body"]["generationConfig"]
	    assert gc["imageConfig"] == {"aspectRatio": "1:1", "imageSize": "2K"}, gc
	    assert gc["temperature"] == 1.0, gc
	PY
	check_pngs jinx-gemini/.loramake/objects &&
	lm jinx-gemini/recipe.yaml >out2 2>err2 &&
	grep -E "^nothing to do|^[0-9]+ nodes built in .*, 0 failed$" out2 &&
	test "$(fake_stat "d[\"calls_total\"]")" = 21
'

# keystones DIR: two keystone anchors and angles of the hero that send
# them as refs (one item only the front)
keystones() {
	gem_recipe "$1" &&
	cp "$SRC/recipes/jinx/keystones/hero.png" "$1/front.png" &&
	python3 - "$1/recipe.yaml" <<-'PY'
	import sys
	p = sys.argv[1]
	s = open(p).read()
	s = s.replace("hero: { file: hero.png }\n", """hero: { file: hero.png }
	anchor:
	  items:
	    key_front: { file: front.png, caption: "seen from the front", framing: closeup }
	    key_tq: { file: hero.png, caption: "in a three-quarter view", framing: closeup }
	""")
	s = s.replace("  from: hero\n", "  from: hero\n  refs: [anchor/key_front, anchor/key_tq]\n")
	s = s.replace("back:     { caption", "back:     { refs: [anchor/key_front], caption")
	open(p, "w").write(s)
	PY
}

test_expect_success 'each edit sends its source, then its refs, as inlineData parts' '
	keystones k &&
	fake_control "{\"reset_stats\": true}" &&
	lm k/recipe.yaml >out3 2>err3 &&
	grep -E "^[0-9]+ nodes built in .*, 0 failed$" out3 &&
	test "$(fake_bodies "sorted(b[\"images\"] for b in d[\"bodies\"])")" = "[2, 3, 3, 3, 3, 3]" &&
	lm plan --json k/recipe.yaml >plan.json &&
	python3 - <<-PY
	import json
	jobs = {j["id"]: j for j in json.load(open("plan.json"))["jobs"]}
	assert jobs["angle/left"]["refs"] == ["anchor/key_front", "anchor/key_tq"], jobs["angle/left"]
	assert jobs["angle/left"]["deps"] == ["hero", "anchor/key_front", "anchor/key_tq"]
	assert jobs["angle/back"]["refs"] == ["anchor/key_front"], jobs["angle/back"]
	parts = jobs["angle/left"]["request"]["body"]["contents"][0]["parts"]
	assert [p["inlineData"]["data"] for p in parts[1:]] == ["<input hero>", "<input anchor/key_front>", "<input anchor/key_tq>"], parts
	assert "refs" not in jobs["hero"]
	PY
'
test_expect_success 'a keystone used only as a ref stays a dataset image' '
	lm plan --json k/recipe.yaml >plan.json &&
	python3 - <<-PY &&
	import json
	pkg = [j for j in json.load(open("plan.json"))["jobs"] if j["id"] == "package"][0]
	assert "anchor/key_front" in pkg["deps"] and "anchor/key_tq" in pkg["deps"], pkg["deps"]
	PY
	lm explain k/recipe.yaml angle/left >explain &&
	grep "^  ref anchor/key_front: input, image [0-9a-f]*$" explain &&
	grep "^  input hero: input" explain
'
test_expect_success 'refs are in the key: a changed keystone remakes exactly the images that send it' '
	lm plan --json k/recipe.yaml >before.json &&
	python3 -c "import sys; open(sys.argv[1], \"ab\").write(b\"\\0\")" k/front.png &&
	lm plan --json k/recipe.yaml >after.json &&
	python3 "$SRC/tests/data/planjson.py" changed before.json after.json | grep -v "^caption/\|^package" | sort >changed &&
	printf "%s\n" anchor/key_front angle/back angle/closeup angle/front angle/left angle/low angle/right >want &&
	diff want changed
'
test_expect_success 'fal sends refs in image_urls, Replicate in image_input, both after the source' '
	keystones r &&
	sed -i -e "s|^  gem: {.*}|  gem: { type: fal, url: \"$OTHER_URL\" }\n  rep: { type: replicate, url: \"$OTHER_URL\" }|" \
		-e "s|model: gemini-2.5-flash-image|model: fal-ai/nano-banana-pro/edit|" \
		-e "s|params: { aspect_ratio: \"1:1\" }|params: { aspect_ratio: \"1:1\" }|" r/recipe.yaml &&
	lm plan --json r/recipe.yaml >fal.json &&
	sed -i -e "s|^  engine: gem|  engine: rep|" -e "s|model: fal-ai/nano-banana-pro/edit|model: google/nano-banana|" r/recipe.yaml &&
	lm plan --json r/recipe.yaml >rep.json &&
	python3 - <<-PY
	import json
	fal = {j["id"]: j for j in json.load(open("fal.json"))["jobs"]}
	rep = {j["id"]: j for j in json.load(open("rep.json"))["jobs"]}
	want = ["<input hero>", "<input anchor/key_front>", "<input anchor/key_tq>"]
	assert fal["angle/left"]["request"]["body"]["image_urls"] == want, fal["angle/left"]
	assert rep["angle/left"]["request"]["body"]["input"]["image_input"] == want, rep["angle/left"]
	assert rep["angle/back"]["request"]["body"]["input"]["image_input"] == want[:2]
	PY
'
test_expect_success 'no output or file shows a key' '
	no_secret "$GEMINI_API_KEY" out err out2 err2 out3 err3 jinx-gemini k "$TRASH/fake.log" &&
	no_secret "$FAL_KEY" out err out2 err2 jinx-gemini "$TRASH/other.log"
'
test_done
