#!/bin/sh
# t3011: training as a node of the graph. `loramake R` builds the package
# and never trains; `loramake R train` uploads the package's ZIP to fal
# storage, submits the trainer, polls and downloads the LoRA file into
# the cache (build/train/NAME.safetensors, the lock names its object); a
# second run pays nothing; a caption edit makes the package and the
# training stale, yet `loramake R` still does not train; a kill or a
# Ctrl-C mid-training leaves the training running and the rerun resumes
# the same request (one training paid); the trainer's 422 is said.
# explain R train answers from the lock and the cache what trained the
# LoRA: the request, its cost, the file's hash, what the trainer was
# sent, the package's key and manifest, each image and its caption.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 100 || exit 1
export FAL_KEY=$FAL_TEST_KEY
TR=fal-ai/flux-lora-fast-training
# a file the fake has, not a ZIP
PNG=00000000-0000-4000-8000-000000000000-0-64x64-000000000000.png

# recipe DIR: two source images, captioned, packaged, trained on the fake
recipe() {
	mkdir -p "$1" && cp "$SRC/recipes/jinx/keystones/hero.png" "$1/a.png" &&
	cp "$SRC/tests/data/images/scene.png" "$1/b.png" &&
	cat >"$1/recipe.yaml" <<-EOF
	loramake: 1
	name: tr
	trigger: TRCHAR
	target: flux
	engines:
	  fal: { type: fal, url: "$FAKE_URL" }
	anchor:
	  items:
	    a: { file: a.png, caption: "smiling" }
	    b: { file: b.png, caption: "in a park" }
	package: { format: fal-zip }
	train:
	  steps: 1400
	EOF
}

trainings() { fake_stat "d[\"submits_by_endpoint\"].get(\"$TR\", 0)"; }
pending_in() { if [ -e "$1/.loramake/pending" ]; then grep -c "	" "$1/.loramake/pending" || true; else echo 0; fi; }
# the trainer's last request is in the journal: a kill now loses nothing
journaled() {
	_rid=$(fake_stat "d[\"submitted\"][-1][\"request_id\"] if d[\"submitted\"] else \"-\"") &&
	test -e r/.loramake/pending && grep -q "$_rid" r/.loramake/pending
}

test_expect_success 'loramake R builds the package and submits no training' '
	recipe r &&
	lm r/recipe.yaml >out 2>err &&
	grep "dataset: r/dist/tr.zip" out &&
	test "$(trainings)" = 0 &&
	test "$(fake_stat "d[\"uploads\"]")" = 0 &&
	lm plan r/recipe.yaml >plan &&
	grep "^train/tr  *train  *fal $TR  *unasked" plan &&
	grep "^not asked for: train/tr, \$4.20, about 42m00s (loramake plan r/recipe.yaml train)" plan
'
test_expect_success 'plan R train prices the training per 1,000 steps and --max-cost counts it' '
	lm plan r/recipe.yaml train >plan &&
	grep "^train/tr  *train .* new .*\$4.200" plan &&
	grep "estimated cost \$4.20, about 42m00s" plan &&
	lm plan --json r/recipe.yaml train >plan.json &&
	python3 -c "import json; j = [n for n in json.load(open(\"plan.json\"))[\"jobs\"] if n[\"kind\"] == \"train\"][0]; b = j[\"request\"][\"body\"]; assert b == {\"images_data_url\": \"<input package>\", \"trigger_word\": \"TRCHAR\", \"steps\": 1400}, b; assert j[\"seconds\"] == 2520, j" &&
	expect_exit 1 lm r/recipe.yaml train --max-cost 4 >out 2>err &&
	grep "max-cost" err &&
	test "$(trainings)" = 0
'
test_expect_success 'loramake R train uploads the ZIP, trains and downloads the LoRA' '
	lm r/recipe.yaml train >out 2>err &&
	test "$(trainings)" = 1 &&
	test "$(fake_stat "d[\"uploads\"]")" = 1 &&
	fake_bodies "[b[\"body\"] for b in d[\"bodies\"] if b[\"endpoint\"] == \"$TR\"][0]" >body &&
	grep "\"images_data_url\": \"$FAKE_URL/files/u/[^\"]*\"" body &&
	grep "\"trigger_word\": \"TRCHAR\"" body && grep "\"steps\": 1400" body &&
	grep "train/tr (fal, .*\$4.200)" err &&
	test -f r/build/train/tr.safetensors
'
test_expect_success 'the lock names the LoRA object, byte for byte what the trainer served' '
	line=$(grep "^node train/tr " r/recipe.lock) &&
	out=$(echo "$line" | sed "s/.* out=\([0-9a-f]*\) .*/\1/") &&
	rid=$(echo "$line" | sed "s/.* request=\([^ ]*\) .*/\1/") &&
	echo "$line" | grep " usd=4.2" &&
	obj=r/.loramake/objects/$(echo "$out" | cut -c1-2)/$(echo "$out" | cut -c3-) &&
	cmp "$obj" r/build/train/tr.safetensors &&
	python3 -c "import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(\"$FAKE_URL/files/$rid-lora.safetensors\").read())" >served &&
	cmp served "$obj" &&
	test "$(fake_stat "d[\"submitted\"][-1][\"request_id\"]")" = "$rid"
'
test_expect_success 'explain R train answers from the lock: request, cost, LoRA hash, parameters, package, images and captions' '
	line=$(grep "^node train/tr " r/recipe.lock) &&
	out=$(echo "$line" | sed "s/.* out=\([0-9a-f]*\) .*/\1/") &&
	rid=$(echo "$line" | sed "s/.* request=\([^ ]*\) .*/\1/") &&
	tree=$(echo "$line" | sed "s/.* trained=\([0-9a-f]*\),.*/\1/") &&
	pkgline=$(grep "^node package " r/recipe.lock) &&
	pkgkey=$(echo "$pkgline" | sed "s/.* key=\([0-9a-f]*\) .*/\1/") &&
	test "$tree" = "$(echo "$pkgline" | sed "s/.* out=\([0-9a-f]*\) .*/\1/")" &&
	lm explain r/recipe.yaml train >ex 2>err &&
	grep "^train/tr: cached" ex &&
	grep "^    request $rid, \$4.20$" ex &&
	grep "^    LoRA file $out$" ex &&
	grep "^  trainer: $FAKE_URL/$TR$" ex &&
	grep "^  parameters: {\"images_data_url\":\"<input package>\",\"steps\":1400,\"trigger_word\":\"TRCHAR\"}$" ex &&
	grep "^  package: key $pkgkey, tree $tree$" ex &&
	unzip -p r/dist/tr.zip manifest.json >manifest &&
	grep "^  manifest.json $(xxhsum -H2 manifest | cut -d" " -f1): 2 images$" ex &&
	grep "^    tr-0001-a.png (anchor/a), image [0-9a-f]\{32\}$" ex &&
	grep "^      caption: TRCHAR seen smiling.$" ex &&
	grep "^      caption: TRCHAR seen in a park.$" ex
'
test_expect_success 'a second loramake R train pays nothing' '
	lm r/recipe.yaml train >out 2>err &&
	test "$(trainings)" = 1 &&
	lm plan r/recipe.yaml train >plan &&
	grep "^train/tr .* cached" plan
'
test_expect_success 'a caption edit makes package and train stale; loramake R does not train' '
	sed -i "s/caption: \"smiling\"/caption: \"grinning\"/" r/recipe.yaml &&
	lm plan r/recipe.yaml train >plan &&
	grep "^package .* stale" plan &&
	grep "^train/tr .* stale .*input changed" plan &&
	lm r/recipe.yaml >out 2>err &&
	test "$(trainings)" = 1 &&
	lm plan r/recipe.yaml >plan &&
	grep "^package .* cached" plan &&
	grep "^train/tr .* unasked" plan &&
	lm explain r/recipe.yaml train >ex 2>err &&
	grep "^  trained (r/recipe.lock): key [0-9a-f]*, not the recipe.s now$" ex &&
	grep "^      caption: TRCHAR seen smiling.$" ex &&
	! grep "grinning" ex &&
	lm gc r/recipe.yaml >gc 2>err &&
	lm explain r/recipe.yaml train >ex2 2>err &&
	cmp ex ex2
'
test_expect_success 'SIGKILL mid-training, then a rerun: the same request is polled, one training paid' '
	fake_control "{\"train_ms\": 60000}" &&
	before=$(trainings) &&
	{ "$LORAMAKE" r/recipe.yaml train >out 2>err & } &&
	pid=$! &&
	wait_for "test \$(trainings) = $((before + 1)) && journaled" &&
	signal_build 9 $pid &&
	{ wait $pid || true; } &&
	fake_control "{\"release_ms\": 100, \"train_ms\": 300}" &&
	lm r/recipe.yaml train >out2 2>err2 &&
	test "$(trainings)" = $((before + 1)) &&
	grep "1 of 1 image came from requests an earlier build submitted" err2 &&
	rid=$(fake_stat "d[\"submitted\"][-1][\"request_id\"]") &&
	grep "^node train/tr .* request=$rid " r/recipe.lock
'
test_expect_success 'Ctrl-C mid-training cancels nothing; the rerun resumes it' '
	sed -i "s/steps: 1400/steps: 1500/" r/recipe.yaml &&
	fake_control "{\"train_ms\": 60000}" &&
	before=$(trainings) &&
	{ "$LORAMAKE" r/recipe.yaml train >out 2>err & } &&
	pid=$! &&
	wait_for "test \$(trainings) = $((before + 1)) && journaled" &&
	signal_build INT $pid &&
	{ wait $pid && rc=0 || rc=$?; } &&
	test "$rc" = 130 &&
	grep "the remote job goes on (it is not cancelled) and the next build resumes it" err &&
	test "$(fake_stat "d[\"cancels\"]")" = 0 &&
	journaled &&
	fake_control "{\"release_ms\": 100, \"train_ms\": 300}" &&
	lm r/recipe.yaml train >out2 2>err2 &&
	test "$(trainings)" = $((before + 1)) &&
	grep "came from requests an earlier build submitted" err2
'
test_expect_success 'the trainer refusing the archive (422) fails the node in its words' '
	recipe bad &&
	sed -i "s|steps: 1400|steps: 1400\n  params: { images_data_url: \"$FAKE_URL/files/$PNG\" }|" bad/recipe.yaml &&
	expect_exit 1 lm bad/recipe.yaml train >out 2>err &&
	grep "FAILED train/tr: .*422.*images_data_url: The archive could not be read: not a zip file" err
'
test_expect_success '--engine preview R train is refused: a trainer is never paid for placeholders' '
	uploads=$(fake_stat "d[\"uploads\"]") &&
	expect_exit 2 lm --engine preview r/recipe.yaml train >out 2>err &&
	grep "a training runs on its trainer" err &&
	expect_exit 2 lm plan --engine preview r/recipe.yaml train >out 2>err &&
	grep "nothing was run" err &&
	test "$(fake_stat "d[\"uploads\"]")" = "$uploads" &&
	lm --engine preview r/recipe.yaml >out 2>err
'
test_expect_success 'a recipe without train: has no target train' '
	recipe none && sed -i "/^train:/,\$d" none/recipe.yaml &&
	expect_exit 2 lm none/recipe.yaml train >out 2>err &&
	grep "has no train: section" err &&
	expect_exit 2 lm none/recipe.yaml trian >out 2>err &&
	grep "unknown target .trian. (targets: package, train)" err
'
test_expect_success 'no output or file shows the key' '
	no_secret "$FAL_KEY" out err out2 err2 r "$TRASH/fake.log"
'
test_done
