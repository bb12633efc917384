#!/bin/sh
# t3301: the Gemini engine against the fake Gemini API, happy path and
# the service's refusals: one generateContent call per image with the
# prompt and the hero inline, IMAGE only, temperature 1.0, the aspect
# ratio (imageSize only where the model takes it); thought parts skipped;
# the lock names the responseIds; a second build calls nothing; a SAFETY
# block fails its node with the reason and is called anew next time; the
# service's error message is the engine's words; a refused key names its
# variable; a 429 RESOURCE_EXHAUSTED waits its RetryInfo retryDelay; the
# key appears nowhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gemini-lib.sh"
start_gemini --job-ms 100 --thoughts true || exit 1
export GEMINI_API_KEY=$GEMINI_TEST_KEY

test_expect_success 'a clean build: one call per image, the key in its header only' '
	gem_recipe g &&
	lm -v g/recipe.yaml >out 2>err &&
	grep -E "^13 nodes built in .*, 0 failed$" out &&
	test "$(fake_stat "d[\"calls_total\"]")" = 6 &&
	test "$(fake_stat "d[\"calls_without_key\"]")" = 0 &&
	test "$(fake_stat "max(d[\"calls_by_key\"].values())")" = 1 &&
	test "$(fake_stat "d[\"key_in_query\"] + d[\"auth_failures\"]")" = 0 &&
	grep -q "^gemini: angle/front: POST $FAKE_URL/v1beta/models/gemini-2.5-flash-image:generateContent: 200$" err &&
	check_pngs g/.loramake/objects
'
test_expect_success 'the call: prompt, then the hero inline; IMAGE only, temperature 1.0, the aspect ratio' '
	fake_bodies "d[\"bodies\"]" >bodies.json &&
	python3 - <<-PY
	import json
	bodies = json.load(open("bodies.json"))
	assert len(bodies) == 6, bodies
	heroes = set()
	for b in bodies:
	    parts = b["body"]["contents"][0]["parts"]
	    assert b["body"]["contents"][0]["role"] == "user", b
	    assert parts[0]["text"].startswith("the same woman, "), parts
	    assert len(parts) == 2 and parts[1]["inlineData"]["mimeType"] == "image/png", parts
	    heroes.add(parts[1]["inlineData"]["data"])
	    gc = b["body"]["generationConfig"]
	    assert gc["responseModalities"] == ["IMAGE"] and gc["temperature"] == 1.0, gc
	    assert gc["imageConfig"] == {"aspectRatio": "1:1"}, gc
	    assert isinstance(gc["seed"], int) and 0 <= gc["seed"] < 2**31, gc
	assert len(heroes) == 1 and next(iter(heroes)).startswith("<"), heroes  # one hero, summarised
	PY
'
test_expect_success 'thought parts are skipped: every image is the answer'"'"'s 64-pixel one, not the 8-pixel draft' '
	python3 - g/build/angle <<-PY
	import os, struct, sys
	d = sys.argv[1]
	sides = {f: struct.unpack(">II", open(os.path.join(d, f), "rb").read()[16:24]) for f in os.listdir(d)}
	assert len(sides) == 6 and set(sides.values()) == {(64, 64)}, sides
	PY
'
test_expect_success 'the lock names the responseIds; a second build calls nothing' '
	test "$(grep -cE "^node angle/[a-z]+ .* request=[A-Za-z0-9_-]{22} " g/recipe.lock)" = 6 &&
	lm g/recipe.yaml >out2 2>err2 &&
	grep -E "^nothing to do|^[0-9]+ nodes built in .*, 0 failed$" out2 &&
	test "$(fake_stat "d[\"calls_total\"]")" = 6
'
test_expect_success 'imageSize goes to a Gemini 3 model; one that takes none is refused before any call' '
	fake_control "{\"reset_stats\": true}" &&
	gem_recipe pro gemini-3-pro-image-preview &&
	sed -i "s|params: { aspect_ratio: \"1:1\" }|params: { aspect_ratio: \"3:4\", image_size: 2K }|" pro/recipe.yaml &&
	lm pro/recipe.yaml >out3 2>err3 &&
	grep -E "^13 nodes built in .*, 0 failed$" out3 &&
	test "$(fake_bodies "[b[\"body\"][\"generationConfig\"][\"imageConfig\"] == {\"aspectRatio\": \"3:4\", \"imageSize\": \"2K\"} for b in d[\"bodies\"]].count(True)")" = 6 &&
	gem_recipe flash &&
	sed -i "s|params: { aspect_ratio: \"1:1\" }|params: { image_size: 2K }|" flash/recipe.yaml &&
	{ lm flash/recipe.yaml >out4 2>err4 || test $? = 1; } &&
	grep "^FAILED angle/front: param '"'"'image_size'"'"': '"'"'gemini-2.5-flash-image'"'"' takes no imageSize (Gemini 3 image models do)$" err4 &&
	lm plan --json flash/recipe.yaml >plan.json &&
	grep -q "takes no imageSize" plan.json &&
	test "$(fake_stat "d[\"calls_total\"]")" = 6
'
test_expect_success 'a SAFETY block fails its node with the reason; the rebuild calls it anew' '
	gem_recipe blocked &&
	fake_control "{\"reset_stats\": true, \"block\": 1}" &&
	{ lm blocked/recipe.yaml >out5 2>err5 || test $? = 1; } &&
	test "$(grep -cE "^FAILED angle/[a-z]+: '"'"'gemini-2.5-flash-image'"'"' blocked the request: (the prompt was blocked \(SAFETY\)|finishReason IMAGE_SAFETY)$" err5)" = 6 &&
	test "$(gem_pending blocked)" = 0 &&
	fake_control "{\"block\": 0}" &&
	lm blocked/recipe.yaml >out6 2>err6 &&
	grep -E "^7 nodes built in .*, 0 failed$" out6 &&
	! grep "earlier build was killed" err6 &&
	test "$(fake_stat "sorted(set(d[\"calls_by_key\"].values()))")" = "[2]"
'
test_expect_success 'the service'"'"'s error message is the engine'"'"'s words (an unknown model)' '
	gem_recipe nomodel gemini-0-nonesuch &&
	{ lm nomodel/recipe.yaml >out7 2>err7 || test $? = 1; } &&
	grep "^FAILED angle/front: '"'"'gemini-0-nonesuch'"'"': submit answered 404: models/gemini-0-nonesuch is not found for API version v1beta, or is not supported for generateContent" err7
'
test_expect_success 'a refused key names its variable, in Gemini'"'"'s words' '
	gem_recipe wrongkey &&
	{ GEMINI_API_KEY=AIza-wrong lm wrongkey/recipe.yaml >out8 2>err8 || test $? = 1; } &&
	grep "^FAILED angle/front: gemini refused the key in GEMINI_API_KEY (400): API key not valid. Please pass a valid API key.$" err8
'
test_expect_success 'a 429 RESOURCE_EXHAUSTED waits at least its retryDelay, and is not a failed try' '
	gem_recipe throttled &&
	fake_control "{\"reset_stats\": true, \"burst_429\": 20, \"retry_delay\": 1.5}" &&
	lm throttled/recipe.yaml >out9 2>err9 &&
	grep -E "^13 nodes built in .*, 0 failed$" out9 &&
	test "$(fake_stat "d[\"faults\"][\"burst_429\"]")" = 20 &&
	test "$(fake_stat "len(d[\"waits_after_429\"]) >= 6 and min(d[\"waits_after_429\"]) >= 1.5")" = True
'
test_expect_success 'no output or file shows the key' '
	no_secret "$GEMINI_API_KEY" out err out2 err2 out3 err3 out4 err4 out5 err5 out6 err6 out7 err7 out8 err8 out9 err9 g pro flash blocked nomodel wrongkey throttled "$TRASH/fake.log"
'
test_done
