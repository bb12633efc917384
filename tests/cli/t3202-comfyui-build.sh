#!/bin/sh
# t3202: the comfyui engine against the fake ComfyUI, on
# recipes/quickstart-comfyui: two workflows in API format beside the
# recipe, node inputs bound to loramake's values; input images uploaded,
# POST /prompt, /history polled, the image fetched by /view; a rebuild
# submits nothing; one input changed in a workflow file makes exactly the
# nodes on that workflow stale; a validation error names the ComfyUI node,
# a missing model says so; an execution error names its node; a server
# that is down is said once; Ctrl-C takes queued prompts out of the queue
# and interrupts the running one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/local-lib.sh"
start_local comfyui --job-ms 50 || exit 1

# qs DIR [URL]: the quickstart in DIR, both engines pointed at URL (the fake)
qs() {
	copy_recipe quickstart-comfyui && rm -rf "$1" && mv quickstart-comfyui "$1" &&
	sed -i "s|^    type: comfyui.*|    type: comfyui\n    url: \"${2:-$FAKE_URL}\"|" "$1/recipe.yaml" &&
	test "$(grep -c "^    url: \"${2:-$FAKE_URL}\"$" "$1/recipe.yaml")" = 2
}

test_expect_success 'the plan costs $0 and shows the bound workflow it sends' '
	qs q &&
	lm plan q/recipe.yaml >plan 2>plan.err &&
	grep -q "^estimated cost \$0.00, .*t2i 1 at once, edit 1 at once$" plan &&
	grep -q "^engine t2i sends no key, to $FAKE_URL$" plan &&
	lm plan --json q/recipe.yaml >plan.json 2>plan.err &&
	python3 - <<-PY
	import json
	jobs = {j["id"]: j for j in json.load(open("plan.json"))["jobs"]}
	rq = jobs["expression/front/smiling"]["request"]
	assert rq["url"] == "$FAKE_URL/prompt", rq
	wf = rq["body"]["prompt"]
	assert wf["6"]["inputs"]["text"].endswith("smiling, soft smile, raised cheeks"), wf
	assert wf["7"]["inputs"]["text"].startswith("blurry"), wf
	assert wf["3"]["inputs"]["denoise"] == 0.45 and wf["3"]["inputs"]["steps"] == 30, wf
	assert isinstance(wf["3"]["inputs"]["seed"], int), wf
	assert wf["10"]["inputs"]["image"] == "<input anchor/front>", wf
	assert wf["4"]["inputs"]["ckpt_name"] == "sd_xl_base_1.0.safetensors", wf
	PY
'
test_expect_success 'a clean build: 6 prompts, the anchors uploaded for the edits, images by /view' '
	lm -v q/recipe.yaml >out 2>err &&
	grep -E "^15 nodes built in .*, \\\$0.00 spent, 0 failed$" out &&
	test "$(fake_stat "d[\"submits_total\"]")" = 6 &&
	test "$(fake_stat "d[\"executed\"]")" = 6 &&
	test "$(fake_stat "max(d[\"submits_by_key\"].values())")" = 1 &&
	test "$(fake_stat "d[\"views\"]")" = 6 &&
	test "$(fake_stat "len(set(d[\"upload_names\"]))")" = 2 &&
	test "$(fake_stat "d[\"origin_refused\"]")" = 0 &&
	grep -q "^comfyui: anchor/front: POST $FAKE_URL/prompt: 200$" err &&
	grep -q "^comfyui: anchor/front: GET $FAKE_URL/history/[0-9a-f-]*: 200$" err &&
	grep -q "^comfyui: anchor/front: GET $FAKE_URL/view: 200$" err &&
	grep -q "^comfyui: expression/front/smiling: POST $FAKE_URL/upload/image: 200$" err &&
	check_pngs q/.loramake/objects &&
	fake_bodies "d[\"bodies\"]" >bodies.json &&
	fake_stat "d[\"upload_names\"]" >uploads.json &&
	python3 - <<-PY
	import json
	bodies = [b["body"] for b in json.load(open("bodies.json"))]
	names = set(json.load(open("uploads.json")))
	edits = [b["prompt"] for b in bodies if "10" in b["prompt"]]
	assert len(edits) == 4 and len(bodies) == 6, bodies
	for wf in edits:
	    assert wf["10"]["inputs"]["image"] in names, (wf["10"], names)
	    assert wf["10"]["inputs"]["image"].startswith("loramake-"), wf["10"]
	for b in bodies:
	    assert b["client_id"] == "loramake", b
	PY
'
test_expect_success 'a rebuild submits nothing' '
	lm q/recipe.yaml >out2 2>err2 &&
	grep -q "^nothing to do: all 15 nodes are up to date$" out2 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 6
'
test_expect_success 'one input changed in flows/edit.json makes exactly its 4 nodes stale, and only they run' '
	sed -i "s/\"filename_prefix\": \"loramake-edit\"/\"filename_prefix\": \"loramake-edit2\"/" q/flows/edit.json &&
	lm plan q/recipe.yaml >plan2 2>plan2.err &&
	test "$(grep -c "^expression/.* stale  *engine " plan2)" = 4 &&
	test "$(grep -c "^anchor/.* stale" plan2)" = 0 &&
	lm q/recipe.yaml >out3 2>err3 &&
	grep -E "^[0-9]+ nodes built in .*, 0 failed$" out3 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 10 &&
	lm q/recipe.yaml >out4 2>err4 &&
	grep -q "^nothing to do" out4
'
test_expect_success 'a checkpoint the server lacks fails the node naming the ComfyUI node' '
	qs qm && sed -i "s/^  model: sd_xl_base_1.0.safetensors   #.*/  model: nope.safetensors/" qm/recipe.yaml &&
	expect_exit 1 lm qm/recipe.yaml >out5 2>err5 &&
	grep -q "^FAILED anchor/front: ComfyUI rejected the workflow flows/anchor.json: node 4 (CheckpointLoaderSimple): the server has no model '"'"'nope.safetensors'"'"' (ckpt_name)$" err5
'
test_expect_success 'a bad value in the workflow: the node id, its class and ComfyUI'"'"'s words' '
	qs qv && sed -i "s/\"sampler_name\": \"dpmpp_2m\"/\"sampler_name\": \"dpmpp_9000\"/" qv/flows/anchor.json &&
	sed -i "s/\"steps\": 25/\"steps\": 0/" qv/flows/anchor.json &&
	expect_exit 1 lm qv/recipe.yaml >out6 2>err6 &&
	grep -q "^FAILED anchor/front: ComfyUI rejected the workflow flows/anchor.json: node 3 (KSampler): Value 0 smaller than min of 1: steps; node 3 (KSampler): Value not in list: sampler_name: '"'"'dpmpp_9000'"'"' not in \[" err6
'
test_expect_success 'a binding to a node the workflow lacks fails before anything is sent' '
	qs qb && sed -i "s/\"6.text\": \"{prompt}\", \"7.text\": \"{negative}\", \"3.seed\": \"{seed}\", \"4.ckpt_name\"/\"66.text\": \"{prompt}\", \"7.text\": \"{negative}\", \"3.seed\": \"{seed}\", \"4.ckpt_name\"/" qb/recipe.yaml &&
	grep -q "66.text" qb/recipe.yaml &&
	before=$(fake_stat "d[\"submits_total\"]") &&
	expect_exit 1 lm qb/recipe.yaml >out7 2>err7 &&
	grep -q "^FAILED anchor/front: input '"'"'66.text'"'"': flows/anchor.json has no node '"'"'66'"'"'$" err7 &&
	test "$(fake_stat "d[\"submits_total\"]")" = "$before"
'
test_expect_success 'a workflow reached through a link is refused, as every file of the recipe' '
	qs ql && mv ql/flows/anchor.json outside.json && ln -s ../../outside.json ql/flows/anchor.json &&
	expect_exit 2 lm plan ql/recipe.yaml >out12 2>err12 &&
	grep -q "^ql/recipe.yaml:[0-9]*:[0-9]*: error: engine .t2i.: workflow: .*link" err12
'
test_expect_success 'an execution error fails the node naming the ComfyUI node that failed' '
	qs qe && fake_control "{\"fail_exec\": 1}" &&
	expect_exit 1 lm qe/recipe.yaml >out8 2>err8 &&
	grep -q "^FAILED anchor/front: node 3 (KSampler) of flows/anchor.json failed: torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB$" err8 &&
	fake_control "{\"fail_exec\": 0}"
'
test_expect_success 'a server that is down is said once, with how to start it; the rest are skipped' '
	dead=$(dead_url) && qs qd "$dead" &&
	expect_exit 1 lm qd/recipe.yaml >out9 2>err9 &&
	test "$(grep -c "^FAILED" err9)" = 1 &&
	grep -q "^FAILED anchor/front: comfyui at $dead does not answer (Couldn.t connect to server.*): is ComfyUI running (python main.py, port 8188)? Or set the engine.s url:$" err9
'
# The running prompt is interrupted; the queued one is deleted from the
# queue, or, when it started in the meantime (the server took it up once
# the first stopped), interrupted too: none runs to its end.
test_expect_success 'Ctrl-C deletes the queued prompt and interrupts the running one' '
	fake_control "{\"hold\": true, \"reset\": true}" &&
	qs qc && sed -i "s/^    type: comfyui$/    type: comfyui\n    concurrency: 2/" qc/recipe.yaml &&
	{ "$LORAMAKE" qc/recipe.yaml >out10 2>err10 & } &&
	pid=$! &&
	wait_for "test \$(fake_stat d[\\\"running\\\"]) = 1 && test \$(fake_stat d[\\\"queued\\\"]) = 1" &&
	signal_build INT $pid &&
	rc=0 &&
	{ wait $pid || rc=$?; } &&
	test "$rc" = 130 &&
	test "$(fake_stat "d[\"queue_deletes\"]")" = 2 &&
	test "$(fake_stat "d[\"interrupts\"]")" = 2 &&
	test "$(fake_stat "d[\"deleted\"] + d[\"interrupted\"]")" = 2 &&
	test "$(fake_stat "d[\"interrupted\"]")" -ge 1 &&
	test "$(fake_stat "d[\"queued\"]")" = 0 &&
	test "$(fake_stat "d[\"executed\"]")" = 0 &&
	test "$(grep -c "^FAILED anchor/.*: cancelled$" err10)" = 2 &&
	fake_control "{\"hold\": false}"
'
test_expect_success 'the next build submits the interrupted prompts anew and finishes' '
	fake_control "{\"hold\": false}" &&
	lm qc/recipe.yaml >out11 2>err11 &&
	grep -E "^[0-9]+ nodes built in .*, 0 failed$" out11 &&
	check_pngs qc/.loramake/objects
'
test_done
