#!/bin/sh
# t3001: the fal engine against the fake fal server, happy path: RECIPE.md
# examples 2 (jinx: multiple-angles, nano-banana edit, seedvr upscale) and
# 1 (fitmannequin: flux-pro ultra with 10 candidates, flux dev
# image-to-image), the request bodies per endpoint, concurrency, the lock,
# -v traces, and a second build that submits nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 300 || exit 1
export FAL_KEY=$FAL_TEST_KEY

test_expect_success 'example 2 builds against the fake, never more than 16 requests in flight' '
	copy_recipe jinx && use_fake jinx/recipe.yaml 16 &&
	lm -v jinx/recipe.yaml >out 2>err &&
	grep "^90 nodes built" out && grep "dataset: jinx/dist/jinx.zip" out &&
	test "$(fake_stat "d[\"submits_total\"]")" = 61 &&
	test "$(fake_stat "d[\"max_inflight\"]")" -le 16 &&
	test "$(fake_stat "d[\"submits_without_key\"]")" = 0 &&
	test "$(fake_stat "max(d[\"submits_by_key\"].values())")" = 1 &&
	test "$(fake_stat "d[\"auth_failures\"] + d[\"errors_4xx\"] + d[\"errors_5xx\"]")" = 0 &&
	unzip -tq jinx/dist/jinx.zip
'
test_expect_success 'each endpoint gets its mapped input' '
	fake_bodies "[b for b in d[\"bodies\"] if b[\"endpoint\"].endswith(\"multiple-angles\")]" >angles.json &&
	python3 - <<-PY &&
	import json
	bodies = json.load(open("angles.json"))
	assert len(bodies) == 12, len(bodies)
	got = {}
	for b in bodies:
	    x = b["body"]
	    assert x["image_urls"][0].startswith("<"), x  # a data URI, summarised
	    assert x["num_images"] == 1 and x["output_format"] == "png", x
	    assert "prompt" not in x, x
	    got[(x["horizontal_angle"], x["vertical_angle"], x["zoom"])] = 1
	want = {(0, 0, 5), (0, 0, 8), (45, 0, 8), (315, 0, 5), (45, 0, 5), (270, 0, 5),
	        (90, 0, 5), (0, -30, 5), (0, 45, 5), (180, 0, 5), (225, 0, 5), (135, 0, 5)}
	assert set(got) == want, sorted(got)
	PY
	fake_bodies "[b[\"body\"] for b in d[\"bodies\"] if b[\"endpoint\"] == \"fal-ai/nano-banana-pro/edit\"][0]" >edit.json &&
	fake_bodies "[b[\"body\"] for b in d[\"bodies\"] if b[\"endpoint\"] == \"fal-ai/seedvr/upscale/image\"][0]" >up.json &&
	python3 - <<-PY
	import json
	e = json.load(open("edit.json"))
	assert e["prompt"].startswith("face identity locked"), e
	assert len(e["image_urls"]) == 1 and e["num_images"] == 1, e
	u = json.load(open("up.json"))
	assert "image_url" in u and "prompt" not in u, u
	PY
'
test_expect_success 'the lock records each request id and the spend' '
	for id in $(fake_stat "\" \".join(s[\"request_id\"] for s in d[\"submitted\"])"); do
		grep -q "$id" jinx/recipe.lock || { echo "lock lacks $id"; exit 1; }
	done &&
	spent=$(sed -n "s/^90 nodes built in .*, \$\([0-9.]*\) spent, 0 failed$/\1/p" out) &&
	test -n "$spent" &&
	python3 - "$spent" <<-PY
	import re, sys
	total, paid = 0.0, 0
	for line in open("jinx/recipe.lock"):
	    if not line.startswith("node "):
	        continue
	    usd = float(re.search(r" usd=([0-9.]+)", line).group(1))
	    if " request=" in line:
	        assert usd > 0, line
	        paid += 1
	    total += usd
	assert paid == 61, paid
	assert abs(total - float(sys.argv[1])) < 0.005, (total, sys.argv[1])
	PY
'
test_expect_success '-v prints one line per request, without headers' '
	grep -q "^fal: angle/front: POST $FAKE_URL/fal-ai/qwen-image-edit-2511-multiple-angles: 200" err &&
	grep -q "^fal: angle/front: GET $FAKE_URL/fal-ai/qwen-image-edit-2511-multiple-angles/requests/.*/status: 20[02]" err &&
	! grep -qi "authorization" err
'
test_expect_success 'every cached image is a whole PNG' '
	check_pngs jinx/.loramake/objects
'
test_expect_success 'a second build submits nothing' '
	lm jinx/recipe.yaml >out2 2>err2 &&
	grep "nothing to do" out2 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 61
'
# The two tests below hold every job in the fake (job_ms 60 s) until as
# many are in flight as the engine's concurrency allows, then release
# them: the count is reached by events, whatever the machine's load.
test_expect_success 'with concurrency 16 and 20 independent nodes, 16 requests are in flight, never more' '
	fake_control "{\"reset\": true, \"job_ms\": 60000}" &&
	tiny wide &&
	sed -i "s/^    back: .*/    left: { count: 19, caption: \"seen from the left\" }/" wide/recipe.yaml &&
	use_fake wide/recipe.yaml 16 &&
	{ lm wide/recipe.yaml >wide.out 2>wide.err & } &&
	pid=$! &&
	wait_for "test \$(fake_stat \"d[\\\"inflight\\\"]\") -ge 16" &&
	test "$(fake_stat "d[\"max_inflight\"]")" = 16 &&
	fake_control "{\"job_ms\": 300, \"release_ms\": 0}" &&
	wait $pid &&
	grep "^20 nodes built" wide.out &&
	test "$(fake_stat "d[\"submits_total\"]")" = 20 &&
	test "$(fake_stat "d[\"max_inflight\"]")" = 16
'
test_expect_success 'example 1: 8 anchors x 10 candidates in flight at once' '
	fake_control "{\"reset\": true, \"job_ms\": 60000}" &&
	copy_recipe fitmannequin && use_fake fitmannequin/recipe.yaml 8 &&
	{ lm --pick first fitmannequin/recipe.yaml >out 2>err & } &&
	pid=$! &&
	wait_for "test \$(fake_stat \"d[\\\"inflight\\\"]\") -ge 80" &&
	fake_control "{\"job_ms\": 300, \"release_ms\": 0}" &&
	wait $pid &&
	test "$(fake_stat "d[\"submits_by_endpoint\"][\"fal-ai/flux-pro/v1.1-ultra\"]")" = 80 &&
	test "$(fake_stat "d[\"submits_by_endpoint\"][\"fal-ai/flux/dev/image-to-image\"]")" = 16 &&
	test "$(fake_stat "d[\"max_inflight\"]")" = 80 &&
	test "$(fake_stat "max(d[\"submits_by_key\"].values())")" = 1 &&
	test -f fitmannequin/build/anchor/front/candidate-10.png &&
	check_pngs fitmannequin/.loramake/objects
'
test_expect_success 'candidates get seeds seed, seed+1, ... and one key each' '
	fake_bodies "[[b[\"key\"], b[\"body\"][\"seed\"]] for b in d[\"bodies\"] if b[\"endpoint\"] == \"fal-ai/flux-pro/v1.1-ultra\"]" >ultra.json &&
	python3 - <<-PY
	import json
	groups = {}
	for key, seed in json.load(open("ultra.json")):
	    node, cand = key.split("/")
	    groups.setdefault(node, {})[int(cand)] = seed
	assert len(groups) == 8, groups
	for node, seeds in groups.items():
	    assert sorted(seeds) == list(range(1, 11)), seeds
	    assert all(seeds[c] == (seeds[1] + c - 1) % 2**32 for c in seeds), seeds
	PY
'
test_expect_success 'image-to-image gets the strength and the picked anchor' '
	fake_bodies "[b[\"body\"] for b in d[\"bodies\"] if b[\"endpoint\"] == \"fal-ai/flux/dev/image-to-image\"]" >i2i.json &&
	python3 - <<-PY
	import json
	bodies = json.load(open("i2i.json"))
	assert sorted({b["strength"] for b in bodies}) == [0.4, 0.5, 0.55, 0.6], bodies
	assert all(b["image_url"].startswith("<") and b["prompt"] for b in bodies)
	PY
'
test_expect_success 'the key is nowhere: output, cache, lock, build/, package, fake log' '
	no_secret "$FAL_KEY" out err out2 err2 jinx fitmannequin "$TRASH/fake.log"
'
test_done
