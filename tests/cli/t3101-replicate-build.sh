#!/bin/sh
# t3101: the Replicate engine against the fake Replicate server, happy
# path (recipes/maya: a user's own LoRA pinned at its version, then edits
# on an official model): the create endpoints and bodies, the lock, -v
# traces, a second build that submits nothing; an output given as one URL
# instead of a list; a failed prediction fails its node in Replicate's
# words and is submitted anew next time; a refused token names its
# variable; the key appears nowhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/replicate-lib.sh"
start_replicate --job-ms 200 --starting-ms 50 || exit 1
export REPLICATE_API_TOKEN=$REPLICATE_TEST_KEY

test_expect_success 'recipes/maya builds against the fake, one create per image' '
	copy_recipe maya && use_replicate maya/recipe.yaml &&
	lm -v maya/recipe.yaml >out 2>err &&
	grep -E "^[0-9]+ nodes built in .*, 0 failed$" out &&
	test "$(fake_stat "d[\"submits_total\"]")" = 6 &&
	test "$(fake_stat "d[\"submits_without_key\"]")" = 0 &&
	test "$(fake_stat "max(d[\"submits_by_key\"].values())")" = 1 &&
	test "$(fake_stat "d[\"auth_failures\"] + d[\"prefer_wait\"]")" = 0 &&
	check_pngs maya/.loramake/objects
'
test_expect_success 'a pinned version goes to /v1/predictions, an official model to its own path' '
	grep -q "^replicate: anchor/front: POST $FAKE_URL/v1/predictions: 201$" err &&
	grep -q "^replicate: angle/desk: POST $FAKE_URL/v1/models/black-forest-labs/flux-kontext-pro/predictions: 201$" err &&
	grep -q "^replicate: anchor/front: GET $FAKE_URL/v1/predictions/[0-9a-f]*: 200$" err &&
	fake_bodies "d[\"bodies\"]" >bodies.json &&
	python3 - <<-PY
	import json
	bodies = json.load(open("bodies.json"))
	pinned = [b["body"] for b in bodies if b["model"] == "pinned"]
	edits = [b["body"] for b in bodies if b["model"] == "black-forest-labs/flux-kontext-pro"]
	assert len(pinned) == 4 and len(edits) == 2, bodies
	for b in pinned:
	    assert b["version"].startswith("5f2408"), b
	    i = b["input"]
	    assert i["guidance"] == 3.5 and i["num_inference_steps"] == 50, i
	    assert i["output_quality"] == 100 and i["go_fast"] is False, i
	    assert i["prompt"].startswith("MAYA, a woman"), i
	    assert "image" not in i and isinstance(i["seed"], int), i
	for b in edits:
	    assert "version" not in b, b
	    assert b["input"]["input_image"].startswith("<"), b  # a data URI, summarised
	    assert "same face" in b["input"]["prompt"], b
	PY
'
test_expect_success 'the lock names the prediction ids; a second build submits nothing' '
	for id in $(fake_stat "\" \".join(s[\"id\"] for s in d[\"submitted\"])"); do
		grep -q "request=$id" maya/recipe.lock || { echo "lock lacks $id"; exit 1; }
	done &&
	lm maya/recipe.yaml >out2 2>err2 &&
	grep -E "^nothing to do|^[0-9]+ nodes built in .*, 0 failed$" out2 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 6
'
test_expect_success 'an output given as one URL, not a list, is downloaded the same' '
	fake_control "{\"output_list\": false}" &&
	copy_recipe maya && rm -rf maya2 && mv maya maya2 && use_replicate maya2/recipe.yaml &&
	lm maya2/recipe.yaml >out3 2>err3 &&
	grep -E "^[0-9]+ nodes built in .*, 0 failed$" out3 &&
	check_pngs maya2/.loramake/objects &&
	fake_control "{\"output_list\": true}"
'
test_expect_success 'a failed prediction fails its node in Replicate'"'"'s words; the rebuild submits it anew' '
	rm -rf maya2 && copy_recipe maya && mv maya maya3 && use_replicate maya3/recipe.yaml &&
	fake_control "{\"reset\": true, \"job_fail\": 1}" &&
	{ lm maya3/recipe.yaml >out4 2>err4 || test $? = 1; } &&
	grep "^FAILED anchor/front: '"'"'sandrasocial/user-maya-selfie-lora:5f2408[0-9a-f]*'"'"' failed: CUDA out of memory$" err4 &&
	fake_control "{\"job_fail\": 0}" &&
	lm maya3/recipe.yaml >out5 2>err5 &&
	grep -E "^[0-9]+ nodes built in .*, 0 failed$" out5 &&
	test "$(fake_stat "sum(v == 2 for v in d[\"submits_by_key\"].values())")" = 4
'
test_expect_success 'a refused token names its variable, in Replicate'"'"'s words' '
	rm -rf maya3 && copy_recipe maya && use_replicate maya/recipe.yaml &&
	{ REPLICATE_API_TOKEN=r8-wrong lm maya/recipe.yaml >out6 2>err6 || test $? = 1; } &&
	grep "^FAILED anchor/front: replicate refused the key in REPLICATE_API_TOKEN (401): You did not pass a valid authentication token$" err6
'
test_expect_success 'no output or file shows the key' '
	no_secret "$REPLICATE_API_TOKEN" out err out2 err2 out3 err3 out4 err4 out5 err5 maya "$TRASH/fake.log"
'
test_done
