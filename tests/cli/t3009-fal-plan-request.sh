#!/bin/sh
# t3009: plan --json and explain show each fal node's request as it will be
# sent (docs/cli.md, "The request a node sends"): the endpoint, every body
# field (params merged item over section), inputs by node id and image
# hash, the key redacted. The bodies a build then sends to the fake are
# the ones plan showed, field for field. The key appears in no output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 50 || exit 1
MARK=sk-MARKER-t3009-never-shown

# req DIR: a hero, two angles, two expressions of the front (one with
# params of its own), an upscale of each image, all on fal
req() {
	mkdir -p "$1" && cp "$SRC/recipes/jinx/keystones/hero.png" "$1/" &&
	cat >"$1/recipe.yaml" <<-\EOF
	loramake: 1
	name: req
	engines:
	  fal: { type: fal }
	hero: { file: hero.png }
	angle:
	  engine: fal
	  model: fal-ai/qwen-image-edit-2511-multiple-angles
	  from: hero
	  negative: blurry, extra fingers
	  items: [front, profile_left]
	expression:
	  engine: fal
	  model: fal-ai/nano-banana-pro/edit
	  params: { resolution: 2K, loras: [{ path: "https://example.com/fox.safetensors", scale: 0.8 }] }
	  items:
	    neutral: relaxed features
	    tired: { text: heavy eyelids, params: { guidance_scale: 4 } }
	  apply: { front: all, "*": skip }
	upscale: { engine: fal, model: fal-ai/seedvr/upscale/image, params: { upscale_factor: 2 } }
	EOF
}

# request PLAN ID: the request of node ID in plan --json output PLAN
request() {
	python3 - "$1" "$2" <<-\PY
	import json, sys
	jobs = {j["id"]: j for j in json.load(open(sys.argv[1]))["jobs"]}
	print(json.dumps(jobs[sys.argv[2]]["request"]))
	PY
}

test_expect_success 'plan --json: an item with params of its own sends the section loras and its own key' '
	req r && use_fake r/recipe.yaml &&
	FAL_KEY=$MARK lm plan --json r/recipe.yaml >plan.json 2>plan.err &&
	request plan.json expression/front/tired >tired.json &&
	request plan.json expression/front/neutral >neutral.json &&
	FAL_KEY=$MARK lm explain r/recipe.yaml expression/front/tired >explain 2>explain.err &&
	seed=$(sed -n "s/^  seed \([0-9]*\) (derived from the key)$/\1/p" explain) &&
	test -n "$seed" &&
	python3 - "$seed" <<-\PY
	import json, sys
	loras = [{"path": "https://example.com/fox.safetensors", "scale": 0.8}]
	t = json.load(open("tired.json"))
	b = t["body"]
	assert b["loras"] == loras and b["resolution"] == "2K", b
	assert b["guidance_scale"] == 4, b
	assert b["prompt"].startswith("Change only the facial expression to: heavy eyelids"), b
	assert b["image_urls"] == ["<input angle/front>"], b
	assert b["seed"] == int(sys.argv[1]) and b["num_images"] == 1, b
	assert b["output_format"] == "png" and "negative_prompt" not in b, b
	assert t["method"] == "POST" and t["url"].endswith("/fal-ai/nano-banana-pro/edit"), t
	assert t["inputs"] == [{"node": "angle/front", "hash": None}], t
	n = json.load(open("neutral.json"))["body"]
	assert n["loras"] == loras and "guidance_scale" not in n, n
	PY
'
test_expect_success 'plan --json: an angle sends image_urls, its camera, the negative prompt; no prompt' '
	request plan.json angle/profile_left >angle.json &&
	xxhsum -H2 r/hero.png >sum &&
	python3 - "$FAKE_URL" "$(cut -d" " -f1 sum)" <<-\PY
	import json, sys
	a = json.load(open("angle.json"))
	b = a["body"]
	assert a["url"] == sys.argv[1] + "/fal-ai/qwen-image-edit-2511-multiple-angles", a
	assert b["image_urls"] == ["<input hero>"], b
	assert (b["horizontal_angle"], b["vertical_angle"], b["zoom"]) == (270, 0, 5), b
	assert b["negative_prompt"] == "blurry, extra fingers", b
	assert "prompt" not in b and b["num_images"] == 1 and isinstance(b["seed"], int), b
	assert a["inputs"] == [{"node": "hero", "hash": sys.argv[2]}], (a, sys.argv[2])
	PY
'
test_expect_success 'plan --json: an upscale sends its input as image_url, png and its params' '
	request plan.json upscale/front/tired >up.json &&
	python3 - <<-\PY
	import json
	u = json.load(open("up.json"))
	b = u["body"]
	assert b["image_url"] == "<input expression/front/tired>", b
	assert b["output_format"] == "png" and b["upscale_factor"] == 2, b
	assert set(b) == {"image_url", "seed", "output_format", "upscale_factor"}, b
	assert u["url"].endswith("/fal-ai/seedvr/upscale/image"), u
	PY
'
test_expect_success 'the key is redacted: its header reads Key <redacted>, its variable is named' '
	python3 - <<-\PY &&
	import json
	for f in ("tired.json", "angle.json", "up.json"):
	    r = json.load(open(f))
	    assert r["headers"] == ["Authorization: Key <redacted>"], r
	    assert r["key_env"] == "FAL_KEY", r
	PY
	grep "^  request: POST $FAKE_URL/fal-ai/nano-banana-pro/edit$" explain &&
	grep "^    Authorization: Key <redacted> (the key from \$FAL_KEY)$" explain &&
	grep "^    {\"prompt\":\"Change only the facial expression to: heavy eyelids" explain &&
	grep "\"guidance_scale\":4" explain && grep "\"loras\":\[" explain
'
test_expect_success 'a build sends the bodies plan showed, and plan then names the cached inputs' '
	FAL_KEY=$FAL_TEST_KEY lm r/recipe.yaml >build.out 2>build.err &&
	grep "^7 nodes built" build.out &&
	fake_bodies "d[\"bodies\"]" >sent.json &&
	python3 - <<-\PY &&
	import json
	plan = {j["key"]: j for j in json.load(open("plan.json"))["jobs"] if "request" in j}
	sent = json.load(open("sent.json"))
	assert len(sent) == 7 and len(plan) == 7, (len(sent), len(plan))
	for s in sent:
	    j = plan[s["key"]]
	    shown, got = j["request"]["body"], s["body"]
	    assert j["request"]["url"].endswith("/" + s["endpoint"]), (j, s)
	    assert set(shown) == set(got), (j["id"], shown, got)
	    for k in shown:
	        if k in ("image_url", "image_urls"):
	            continue  # a data URI sent, "<input ID>" shown
	        assert shown[k] == got[k], (j["id"], k, shown[k], got[k])
	PY
	FAL_KEY=$MARK lm plan --json r/recipe.yaml >after.json 2>after.err &&
	request after.json upscale/front/tired >up2.json &&
	out=$(sed -n "s/^node expression\/front\/tired .* out=\([0-9a-f]*\) .*/\1/p" r/recipe.lock) &&
	test -n "$out" &&
	python3 - "$out" <<-\PY &&
	import json, sys
	u = json.load(open("up2.json"))
	assert u["inputs"] == [{"node": "expression/front/tired", "hash": sys.argv[1]}], u
	PY
	FAL_KEY=$MARK lm explain r/recipe.yaml upscale/front/tired >explain2 2>explain2.err &&
	grep "^  input expression/front/tired: cached, image $out$" explain2
'
test_expect_success 'flux-lora image-to-image sends the strength it was given' '
	mkdir i && cp "$SRC/recipes/jinx/keystones/hero.png" i/ &&
	cat >i/recipe.yaml <<-\EOF &&
	loramake: 1
	engines: { fal: { type: fal } }
	hero: { file: hero.png }
	angle:
	  engine: fal
	  model: fal-ai/flux-lora/image-to-image
	  from: hero
	  items: { wave: { prompt: waving, strength: 0.6 } }
	EOF
	FAL_KEY=$MARK lm plan --json i/recipe.yaml >i.json 2>i.err &&
	request i.json angle/wave >wave.json &&
	python3 - <<-\PY
	import json
	b = json.load(open("wave.json"))["body"]
	assert b["strength"] == 0.6 and b["prompt"] == "waving", b
	assert b["image_url"] == "<input hero>", b
	PY
'
test_expect_success 'a node waiting on a pick says which, its input hash unknown' '
	copy_recipe fitmannequin &&
	FAL_KEY=$MARK lm plan --json fitmannequin/recipe.yaml >fit.json 2>fit.err &&
	request fit.json angle/curl/1 >curl.json &&
	python3 - <<-\PY &&
	import json
	c = json.load(open("curl.json"))
	assert c["waits_on"] == "anchor/front", c
	assert c["inputs"] == [{"node": "anchor/front", "hash": None}], c
	assert c["body"]["image_url"] == "<input anchor/front>" and c["body"]["strength"] == 0.4, c
	PY
	FAL_KEY=$MARK lm explain fitmannequin/recipe.yaml angle/curl/1 >curl.txt 2>curl.err &&
	grep "^    (its seed is derived from its key, known once anchor/front is picked)$" curl.txt
'
test_expect_success 'the key is in no output: plan, plan --json, explain, their stderr' '
	FAL_KEY=$MARK lm plan r/recipe.yaml >table 2>table.err &&
	FAL_KEY=$MARK lm explain r/recipe.yaml angle/front >explain3 2>explain3.err &&
	no_secret "$MARK" plan.json plan.err explain explain.err after.json after.err \
		explain2 explain2.err i.json i.err table table.err explain3 explain3.err \
		fit.json fit.err curl.txt curl.err &&
	no_secret "$FAL_TEST_KEY" build.out build.err r
'
test_done
