#!/bin/sh
# t3520: WAN 2.2 makes two LoRA files, one for each expert of its model
# (fal-ai/wan-22-image-trainer: high_noise_lora, and the low-noise file
# as diffusers_lora_file). One training, one request, one price; both
# files are its outputs: in the cache, in the lock, in build/train/ by
# name, in explain; a validation sends both to
# fal-ai/wan/v2.2-a14b/text-to-image/lora, each with its transformer,
# and is keyed by both, so a training that made another high-noise file
# alone validates again. A kill mid-training resumes the one request.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 50 || exit 1
export FAL_KEY=$FAL_TEST_KEY
TR=fal-ai/wan-22-image-trainer
VA=fal-ai/wan/v2.2-a14b/text-to-image/lora

submits() { fake_stat "d[\"submits_by_endpoint\"].get(\"$1\", 0)"; }
wan_recipe() { validate_recipe "$1" && sed -i "s/^target: flux$/target: wan22/" "$1/recipe.yaml"; }
# the object file of hash $1 in recipe folder $2
object() { echo "$2/.loramake/objects/$(echo "$1" | cut -c1-2)/$(echo "$1" | cut -c3-)"; }
train_line() { grep "^node train/va " "$1/recipe.lock"; }
outs_of() { echo "$1" | sed "s/.* out=\([0-9a-f,]*\) .*/\1/"; }

test_expect_success 'target wan22 trains on fal-ai/wan-22-image-trainer and validates on the WAN 2.2 LoRA endpoint, one price each' '
	wan_recipe r &&
	lm plan r/recipe.yaml train >plan 2>err &&
	grep "^train/va  *train  *fal $TR  *new .*\$2.000" plan &&
	grep "^validate/park  *validate  *fal $VA  *new .*\$0.035" plan &&
	grep "estimated cost \$2.07" plan
'
test_expect_success 'plan --json shows each validation sending both files, each to its transformer' '
	lm plan --json r/recipe.yaml train >plan.json 2>err &&
	python3 - <<-\EOF
	import json
	jobs = {n["id"]: n for n in json.load(open("plan.json"))["jobs"]}
	b = jobs["validate/park"]["request"]["body"]
	assert b["loras"] == [{"path": "<input train/va low_noise>", "scale": 0.8, "transformer": "low"},
	                      {"path": "<input train/va high_noise>", "scale": 0.8, "transformer": "high"}], b
	assert b["image_format"] == "png" and "num_images" not in b and "output_format" not in b, b
	t = jobs["train/va"]["request"]["body"]
	assert t["training_data_url"] == "<input package>" and t["trigger_phrase"] == "VACHAR", t
	assert t["steps"] == 1000 and t["learning_rate"] == 0.0007, t
	assert t["use_masks"] is True and t["use_face_detection"] is True and t["is_style"] is False, t
	EOF
'
test_expect_success 'loramake R train: one training request, two LoRA files in the cache and in build/train/ by name' '
	lm -v r/recipe.yaml train >out 2>err &&
	test "$(submits $TR)" = 1 && test "$(submits $VA)" = 2 &&
	grep "train/va (fal, .*\$2.000)" err &&
	line=$(train_line r) &&
	echo "$line" | grep " usd=2 " &&
	outs=$(outs_of "$line") &&
	low=${outs%,*} && high=${outs#*,} &&
	test "$low" != "$high" && test -n "$low" && test -n "$high" &&
	cmp "$(object "$low" r)" r/build/train/va.low_noise.safetensors &&
	cmp "$(object "$high" r)" r/build/train/va.high_noise.safetensors &&
	rid=$(echo "$line" | sed "s/.* request=\([^ ]*\) .*/\1/") &&
	python3 -c "import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(\"$FAKE_URL/files/$rid-high-noise-lora.safetensors\").read())" >high.served &&
	python3 -c "import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(\"$FAKE_URL/files/$rid-lora.safetensors\").read())" >low.served &&
	cmp high.served r/build/train/va.high_noise.safetensors &&
	cmp low.served r/build/train/va.low_noise.safetensors
'
test_expect_success 'each validation sent both uploaded files, the low-noise one as low and the high-noise one as high' '
	line=$(train_line r) &&
	outs=$(outs_of "$line") &&
	fake_bodies "[b[\"body\"] for b in d[\"bodies\"] if b[\"endpoint\"] == \"$VA\"]" >bodies &&
	python3 - "$FAKE_URL" r/build/train/va.low_noise.safetensors r/build/train/va.high_noise.safetensors <<-\EOF &&
	import json, sys, urllib.request
	base, low, high = sys.argv[1], open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
	bodies = json.load(open("bodies"))
	assert len(bodies) == 2, bodies
	for b in bodies:
	    by = {l["transformer"]: urllib.request.urlopen(l["path"]).read() for l in b["loras"]}
	    assert sorted(by) == ["high", "low"], b
	    assert by["low"] == low and by["high"] == high, b
	    assert all(l["path"].startswith(base + "/files/u/") for l in b["loras"]), b
	EOF
	test -f r/build/validate/park.png && test -f r/build/validate/cafe.png
'
test_expect_success 'each LoRA file went up once for both validations: the ZIP and two files, three uploads' '
	test "$(fake_stat "d[\"uploads\"]")" = 3 &&
	test "$(grep -c "fal: validate/.*: input [12] not sent again: uploaded by another job of this build" err)" = 2
'
test_expect_success 'explain R train names both files' '
	outs=$(outs_of "$(train_line r)") &&
	lm explain r/recipe.yaml train >ex 2>err &&
	grep "^    LoRA file ${outs%,*} (low_noise)$" ex &&
	grep "^    LoRA file ${outs#*,} (high_noise)$" ex &&
	grep "^  parameters: {\"is_style\":false,\"learning_rate\":0.0007,\"steps\":1000,\"training_data_url\":\"<input package>\",\"trigger_phrase\":\"VACHAR\",\"use_face_detection\":true,\"use_masks\":true}$" ex
'
test_expect_success 'a second loramake R train pays nothing' '
	lm r/recipe.yaml train >out 2>err &&
	test "$(submits $TR)" = 1 && test "$(submits $VA)" = 2 &&
	lm plan r/recipe.yaml train >plan &&
	grep "^train/va .* cached" plan && grep "^validate/park .* cached" plan
'
test_expect_success 'gc keeps both files' '
	outs=$(outs_of "$(train_line r)") &&
	lm gc r/recipe.yaml >gc 2>err &&
	test -f "$(object "${outs%,*}" r)" && test -f "$(object "${outs#*,}" r)"
'
test_expect_success 'the same low-noise file with another high-noise one validates again: the key holds both' '
	cp -R r r2 &&
	line=$(train_line r2) && outs=$(outs_of "$line") &&
	cp "$(object "${outs#*,}" r2)" other.safetensors &&
	printf "more" >>other.safetensors &&
	other=$(xxhsum -H2 other.safetensors | cut -d" " -f1) &&
	mkdir -p "$(dirname "$(object "$other" r2)")" &&
	cp other.safetensors "$(object "$other" r2)" &&
	tkey=$(echo "$line" | sed "s/.* key=\([0-9a-f]*\) .*/\1/") &&
	sed -i "s/$outs/${outs%,*},$other/" r2/.loramake/actions r2/recipe.lock &&
	grep "${outs%,*},$other" r2/.loramake/actions &&
	lm plan r2/recipe.yaml train >plan 2>err &&
	grep "^validate/park .* \(new\|stale\)" plan
'
test_expect_success 'a validation endpoint that takes one LoRA file is refused for a WAN 2.2 training' '
	wan_recipe one && sed -i "s|^  scale: 0.8|  scale: 0.8\n  model: fal-ai/flux-lora|" one/recipe.yaml &&
	expect_exit 2 lm plan one/recipe.yaml train >out 2>err &&
	grep "recipe.yaml:[0-9]*:[0-9]*: error: .fal-ai/flux-lora. takes one LoRA file; $TR makes 2 (one for each expert of its model): validate on an endpoint that takes them ($VA)" err &&
	validate_recipe two && sed -i "s|^  scale: 0.8|  scale: 0.8\n  model: $VA|" two/recipe.yaml &&
	expect_exit 2 lm plan two/recipe.yaml train >out 2>err &&
	grep "error: .$VA. takes a LoRA file for each of its two experts; fal-ai/flux-lora-fast-training makes one" err
'
test_expect_success 'SIGKILL mid-training, then a rerun: one request, polled again, both files delivered' '
	wan_recipe k && sed -i "s/steps: 1000/steps: 1200/" k/recipe.yaml &&
	fake_control "{\"train_ms\": 60000}" &&
	before=$(submits $TR) &&
	{ "$LORAMAKE" k/recipe.yaml train >out 2>err & } &&
	pid=$! &&
	wait_for "test \$(submits $TR) = $((before + 1)) && test -e k/.loramake/pending && grep -q \"\$(fake_stat \"d[\\\"submitted\\\"][-1][\\\"request_id\\\"]\")\" k/.loramake/pending" &&
	signal_build 9 $pid &&
	{ wait $pid || true; } &&
	fake_control "{\"release_ms\": 100, \"train_ms\": 300}" &&
	lm k/recipe.yaml train >out2 2>err2 &&
	test "$(submits $TR)" = $((before + 1)) &&
	grep "1 of 1 image came from requests an earlier build submitted" err2 &&
	test -f k/build/train/va.low_noise.safetensors &&
	test -f k/build/train/va.high_noise.safetensors
'
test_expect_success 'validations one at a time take the URL the first one uploaded' '
	validate_recipe seq && sed -i "s|^  fal: { type: fal, url: \"\([^\"]*\)\" }|  fal: { type: fal, url: \"\1\", concurrency: 1 }|" seq/recipe.yaml &&
	grep "concurrency: 1" seq/recipe.yaml &&
	before=$(fake_stat "d[\"uploads\"]") &&
	lm -v seq/recipe.yaml train >out 2>err &&
	test "$(fake_stat "d[\"uploads\"]")" = $((before + 2)) &&
	grep "fal: validate/.*: input 1 not sent again: uploaded earlier in this build" err &&
	test -f seq/build/validate/park.png && test -f seq/build/validate/cafe.png
'
test_expect_success 'the upload refused for one validation: the other sends the file itself and is made' '
	validate_recipe ref && sed -i "s/^trigger: VACHAR/trigger: REFCHAR/" ref/recipe.yaml &&
	cp ref/recipe.yaml full.yaml && sed -i "/^validate:/,\$d" ref/recipe.yaml &&
	lm ref/recipe.yaml train >out 2>err &&
	test -f ref/build/train/va.safetensors &&
	cp full.yaml ref/recipe.yaml &&
	fake_control "{\"refuse_uploads\": 1}" &&
	before=$(fake_stat "d[\"uploads\"]") &&
	expect_exit 1 timeout 300 "$LORAMAKE" ref/recipe.yaml train >out 2>err &&
	test "$(fake_stat "d[\"refused_uploads\"]")" = 1 &&
	test "$(fake_stat "d[\"uploads\"]")" = $((before + 1)) &&
	test "$(grep -c "FAILED validate/.*Upload refused: storage quota exceeded" err)" = 1 &&
	test "$(ls ref/build/validate/*.png | wc -l)" = 1
'
test_expect_success 'recipes/quickstart-train-wan22 plans the WAN 2.2 trainer and two validations on both files' '
	cp -R "$SRC/recipes/quickstart-train-wan22" qs &&
	lm plan qs/recipe.yaml train >plan 2>err &&
	grep "^train/quickstart_wan  *train  *fal $TR  *new .*\$2.000" plan &&
	grep "^validate/park  *validate  *fal $VA  *new .*\$0.035" plan &&
	grep "^validate/studio " plan &&
	lm plan qs/recipe.yaml >plan 2>err &&
	grep "^not asked for: train/quickstart_wan and 2 validation images, \$2.07" plan
'
test_expect_success 'no output or file shows the key' '
	no_secret "$FAL_KEY" out err out2 err2 r k "$TRASH/fake.log"
'
test_done
