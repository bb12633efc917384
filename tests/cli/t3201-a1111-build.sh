#!/bin/sh
# t3201: the a1111 engine (AUTOMATIC1111 / Forge) against the fake web UI,
# on recipes/quickstart-a1111: txt2img anchors and img2img edits with the
# recipe's fields mapped (seed, steps, cfg_scale, sampler, size,
# denoising_strength, the checkpoint, loras in the prompt), one
# generation at a time, $0 in the plan; a rebuild submits nothing;
# validation errors and a failed generation fail their node in the
# server's words; basic auth from A1111_API_AUTH; a server that is down is
# said once, not once per node; Ctrl-C interrupts the running generation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/local-lib.sh"
start_local a1111 --job-ms 50 || exit 1

test_expect_success 'the plan costs $0 and says where the requests go' '
	copy_recipe quickstart-a1111 && mv quickstart-a1111 qs &&
	point_at qs/recipe.yaml webui "$FAKE_URL" &&
	lm plan qs/recipe.yaml >plan 2>plan.err &&
	grep -q "^estimated cost \$0.00, .*webui 1 at once$" plan &&
	grep -q "^engine webui sends \$A1111_API_AUTH, when it is set, to $FAKE_URL$" plan
'
test_expect_success 'a clean build: 2 txt2img, 4 img2img, never two at once' '
	lm -v -j 8 qs/recipe.yaml >out 2>err &&
	grep -E "^15 nodes built in .*, \\\$0.00 spent, 0 failed$" out &&
	test "$(fake_stat "d[\"by_endpoint\"]")" = "{\"txt2img\": 2, \"img2img\": 4}" &&
	test "$(fake_stat "d[\"max_generating\"]")" = 1 &&
	test "$(fake_stat "d[\"max_at_once\"]")" = 1 &&
	test "$(fake_stat "max(d[\"submits_by_key\"].values())")" = 1 &&
	grep -q "^a1111: anchor/front: POST $FAKE_URL/sdapi/v1/txt2img: 200$" err &&
	grep -q "^a1111: expression/front/smiling: POST $FAKE_URL/sdapi/v1/img2img: 200$" err &&
	check_pngs qs/.loramake/objects
'
test_expect_success 'the requests carry the recipe: seed, steps, sampler, checkpoint, strength, loras' '
	fake_bodies "d[\"bodies\"]" >bodies.json &&
	python3 - <<-PY
	import json
	bodies = json.load(open("bodies.json"))
	t2i = [b["body"] for b in bodies if b["endpoint"] == "txt2img"]
	i2i = [b["body"] for b in bodies if b["endpoint"] == "img2img"]
	assert len(t2i) == 2 and len(i2i) == 4, bodies
	for b in t2i + i2i:
	    assert isinstance(b["seed"], int) and 0 <= b["seed"] < 2**32, b
	    assert b["steps"] == 30 and b["cfg_scale"] == 6.5, b
	    assert b["sampler_name"] == "DPM++ 2M", b
	    assert b["override_settings"] == {"sd_model_checkpoint": "sd_xl_base_1.0"}, b
	    assert b["negative_prompt"].startswith("blurry"), b
	    assert b["batch_size"] == 1 and b["send_images"] is True, b
	for b in t2i:
	    assert b["width"] == 1024 and "init_images" not in b, b
	    assert "<lora:" not in b["prompt"], b
	for b in i2i:
	    assert b["denoising_strength"] == 0.45, b
	    assert len(b["init_images"]) == 1 and b["init_images"][0].startswith("<"), b
	    assert b["prompt"].endswith(" <lora:qschar_v1:0.8>"), b
	    assert "loras" not in b, b
	PY
'
test_expect_success 'a rebuild submits nothing' '
	lm qs/recipe.yaml >out2 2>err2 &&
	grep -q "^nothing to do: all 15 nodes are up to date$" out2 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 6
'
test_expect_success 'a field of the wrong type fails its node with the server'"'"'s 422, naming the field' '
	sed -i "s/steps: 30, cfg_scale: 6.5, sampler_name: \"DPM++ 2M\", width/steps: \"thirty\", cfg_scale: 6.5, sampler_name: \"DPM++ 2M\", width/" qs/recipe.yaml &&
	expect_exit 1 lm qs/recipe.yaml >out3 2>err3 &&
	grep -q "^FAILED anchor/front: '"'"'sd_xl_base_1.0'"'"' rejected the request (422): steps: value is not a valid integer$" err3 &&
	grep -q "^FAILED anchor/three_quarter: .*(422): steps: value is not a valid integer$" err3
'
test_expect_success 'an unknown sampler and a failed generation fail in the server'"'"'s words, untried again' '
	sed -i "s/steps: \"thirty\", cfg_scale: 6.5, sampler_name: \"DPM++ 2M\", width/steps: 30, cfg_scale: 6.5, sampler_name: \"Heun 9000\", width/" qs/recipe.yaml &&
	expect_exit 1 lm qs/recipe.yaml >out4 2>err4 &&
	grep -q "^FAILED anchor/front: '"'"'sd_xl_base_1.0'"'"': submit answered 404: Sampler not found$" err4 &&
	sed -i "s/sampler_name: \"Heun 9000\"/sampler_name: Euler/" qs/recipe.yaml &&
	fake_control "{\"fail_500\": 1, \"reset_stats\": true}" &&
	expect_exit 1 lm qs/recipe.yaml >out5 2>err5 &&
	grep -q "^FAILED anchor/front: '"'"'sd_xl_base_1.0'"'"': submit answered 500: CUDA out of memory. Tried to allocate 2.00 GiB$" err5 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 2 &&
	fake_control "{\"fail_500\": 0}"
'
test_expect_success 'basic auth: A1111_API_AUTH is sent when set, a refusal names the variable' '
	start_local a1111 --auth "ada:s3cret-pw" --job-ms 50 &&
	copy_recipe quickstart-a1111 && rm -rf qa && mv quickstart-a1111 qa &&
	point_at qa/recipe.yaml webui "$FAKE_URL" &&
	expect_exit 1 lm qa/recipe.yaml >out6 2>err6 &&
	grep -q "^FAILED anchor/front: a1111 refused the key in A1111_API_AUTH (401): Incorrect username or password$" err6 &&
	A1111_API_AUTH=ada:s3cret-pw lm qa/recipe.yaml >out7 2>err7 &&
	grep -E "^[0-9]+ nodes built in .*, 0 failed$" out7 &&
	test "$(fake_stat "d[\"generated\"]")" = 6 &&
	no_secret "s3cret-pw" out6 err6 out7 err7 qa "$TRASH/fake.log"
'
test_expect_success 'a server that is down is said once, with how to start it; the rest are skipped' '
	copy_recipe quickstart-a1111 && rm -rf qd && mv quickstart-a1111 qd &&
	dead=$(dead_url) && point_at qd/recipe.yaml webui "$dead" &&
	expect_exit 1 lm qd/recipe.yaml >out8 2>err8 &&
	test "$(grep -c "^FAILED" err8)" = 1 &&
	grep -q "^FAILED anchor/front: a1111 at $dead does not answer (Couldn.t connect to server.*): is the web UI running, started with --api (or --nowebui)? Or set the engine.s url:$" err8 &&
	grep -q "^4 nodes built in .*, 11 failed$" out8
'
test_expect_success 'Ctrl-C interrupts the running generation at the server (POST /sdapi/v1/interrupt)' '
	start_local a1111 --hold true &&
	copy_recipe quickstart-a1111 && rm -rf qc && mv quickstart-a1111 qc &&
	point_at qc/recipe.yaml webui "$FAKE_URL" &&
	{ "$LORAMAKE" qc/recipe.yaml >out9 2>err9 & } &&
	pid=$! &&
	wait_for "test \$(fake_stat d[\\\"generating\\\"]) = 1" &&
	signal_build INT $pid &&
	rc=0 &&
	{ wait $pid || rc=$?; } &&
	test "$rc" = 130 &&
	test "$(fake_stat "d[\"interrupts\"]")" = 1 &&
	test "$(fake_stat "d[\"interrupted\"]")" = 1 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 1 &&
	grep -q "^FAILED anchor/.*: cancelled$" err9 &&
	! test -e qc/build/anchor
'
test_done
