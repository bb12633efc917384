#!/bin/sh
# t3502: a training on Replicate (engine: replicate): plan prices it per
# 1,000 steps; `loramake R train` sends the package's ZIP to POST
# /v1/models/OWNER/NAME/versions/VERSION/trainings with the destination,
# polls the training, downloads output.weights (trained_model.tar) and
# caches the LoRA inside it, checked; a second run pays nothing; a kill
# mid-training and a rerun poll the same training (one paid); a training
# without a version or a destination is a recipe error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/replicate-lib.sh"
start_replicate --job-ms 50 || exit 1
export REPLICATE_API_TOKEN=$REPLICATE_TEST_KEY
VER=a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90

recipe() {
	mkdir -p "$1" && cp "$SRC/recipes/jinx/keystones/hero.png" "$1/a.png" &&
	cp "$SRC/tests/data/images/scene.png" "$1/b.png" &&
	cat >"$1/recipe.yaml" <<-EOF2
	loramake: 1
	name: rt
	trigger: RTCHAR
	target: flux
	engines:
	  rep: { type: replicate, url: "$FAKE_URL" }
	anchor:
	  items:
	    a: { file: a.png, caption: "smiling" }
	    b: { file: b.png, caption: "in a park" }
	package: { format: fal-zip }
	train:
	  engine: rep
	  model: ostris/flux-dev-lora-trainer:$VER
	  destination: me/rt-lora
	  steps: 2000
	  params: { autocaption: false }
	EOF2
}

trainings() { fake_stat "d[\"trainings\"]"; }
journaled() {
	_tid=$(fake_stat "d[\"submitted\"][-1][\"id\"] if d[\"submitted\"] else \"-\"") &&
	test -e r/.loramake/pending && grep -q "$_tid" r/.loramake/pending
}

test_expect_success 'plan R train prices the training per 1,000 steps and shows what it sends' '
	recipe r &&
	lm plan r/recipe.yaml train >plan 2>err &&
	grep "^train/rt  *train  *rep ostris/flux-dev-lora-trainer:$VER  *new .*\$3.660" plan &&
	lm plan --json r/recipe.yaml train >plan.json &&
	python3 -c "import json; j = [n for n in json.load(open(\"plan.json\"))[\"jobs\"] if n[\"kind\"] == \"train\"][0]; r = j[\"request\"]; assert r[\"url\"] == \"$FAKE_URL/v1/models/ostris/flux-dev-lora-trainer/versions/$VER/trainings\", r; assert r[\"body\"] == {\"destination\": \"me/rt-lora\", \"input\": {\"input_images\": \"<input package>\", \"trigger_word\": \"RTCHAR\", \"steps\": 2000, \"learning_rate\": 0.0004, \"autocaption\": False}}, r"
'
test_expect_success 'loramake R train trains on Replicate and caches the LoRA inside the weights tar' '
	lm r/recipe.yaml train >out 2>err &&
	test "$(trainings)" = 1 &&
	fake_stat "d[\"training_bodies\"][0]" >body &&
	grep "\"destination\": \"me/rt-lora\"" body &&
	grep "\"input_images\": \"$FAKE_URL/v1/files/[0-9a-f]*\"" body &&
	test "$(fake_stat "d[\"uploads\"]")" = 1 &&
	tid=$(fake_stat "d[\"submitted\"][-1][\"id\"]") &&
	python3 -c "import sys; sys.path.insert(0, \"$SRC/tests/fake\"); from fal_server import safetensors_blob; sys.stdout.buffer.write(safetensors_blob(\"$tid\"))" >want &&
	cmp want r/build/train/rt.safetensors &&
	grep "^node train/rt .* usd=3.66 request=$tid trained=" r/recipe.lock &&
	lm explain r/recipe.yaml train >ex 2>err &&
	grep "^  trainer: $FAKE_URL/v1/models/ostris/flux-dev-lora-trainer/versions/$VER/trainings$" ex &&
	grep "^      caption: RTCHAR seen smiling.$" ex
'
test_expect_success 'a second loramake R train pays nothing' '
	lm r/recipe.yaml train >out 2>err &&
	test "$(trainings)" = 1 &&
	lm plan r/recipe.yaml train >plan &&
	grep "^train/rt .* cached" plan
'
test_expect_success 'SIGKILL mid-training, then a rerun: the same training is polled, one paid' '
	sed -i "s/steps: 2000/steps: 2500/" r/recipe.yaml &&
	fake_control "{\"train_ms\": 4000}" &&
	{ "$LORAMAKE" r/recipe.yaml train >out 2>err & } &&
	pid=$! &&
	wait_for "test \$(trainings) = 2 && journaled" &&
	signal_build 9 $pid &&
	{ wait $pid || true; } &&
	lm r/recipe.yaml train >out2 2>err2 &&
	test "$(trainings)" = 2 &&
	grep "came from requests an earlier build submitted" err2 &&
	test -f r/build/train/rt.safetensors
'
test_expect_success 'a Replicate training without a version or a destination is a recipe error' '
	recipe nv && sed -i "s|:$VER||" nv/recipe.yaml &&
	expect_exit 2 lm plan nv/recipe.yaml train >out 2>err &&
	grep "names a version of its trainer" err &&
	recipe nd && sed -i "/destination:/d" nd/recipe.yaml &&
	expect_exit 2 lm plan nd/recipe.yaml train >out 2>err &&
	grep "needs destination: OWNER/NAME" err
'
test_expect_success 'recipes/quickstart-train-replicate plans a training and validations on Replicate' '
	cp -R "$SRC/recipes/quickstart-train-replicate" qs &&
	lm plan qs/recipe.yaml train >plan 2>err &&
	grep "^train/quickstart_train_rep  *train  *rep ostris/flux-dev-lora-trainer:" plan &&
	grep "^validate/park  *validate  *rep black-forest-labs/flux-dev-lora " plan
'
test_expect_success 'no output or file shows the key' '
	no_secret "$REPLICATE_API_TOKEN" out err out2 err2 r "$TRASH/fake.log"
'
test_done
