#!/bin/sh
# t3500: validate: prompts through fal-ai/flux-lora with the trained LoRA
# (loras: [{path, scale}], the LoRA uploaded to fal storage), nodes after
# the training: unasked by `loramake R`, priced by `plan R train`, built
# by `loramake R train` into build/validate/; their key holds the LoRA
# file's hash, so a second run pays nothing and a training that made
# another file (same training key) makes them again; the fake refuses a
# path that is not a LoRA file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 50 || exit 1
export FAL_KEY=$FAL_TEST_KEY
TR=fal-ai/flux-lora-fast-training
VA=fal-ai/flux-lora
# a file the fake has, not a LoRA
PNG=00000000-0000-4000-8000-000000000000-0-64x64-000000000000.png

submits() { fake_stat "d[\"submits_by_endpoint\"].get(\"$1\", 0)"; }

test_expect_success 'loramake R leaves the validations unasked; plan names them beside the training' '
	validate_recipe r &&
	lm r/recipe.yaml >out 2>err &&
	test "$(submits $TR)" = 0 && test "$(submits $VA)" = 0 &&
	lm plan r/recipe.yaml >plan &&
	grep "^validate/park  *validate  *fal $VA  *unasked" plan &&
	grep "^not asked for: train/va and 2 validation images, \$3.07, about 30m10s (loramake plan r/recipe.yaml train)" plan
'
test_expect_success 'plan R train prices the validations after the training' '
	lm plan r/recipe.yaml train >plan &&
	grep "^validate/cafe  *validate  *fal $VA  *new .*\$0.035" plan &&
	grep "estimated cost \$3.07" plan &&
	lm plan --json r/recipe.yaml train >plan.json &&
	python3 -c "import json; j = [n for n in json.load(open(\"plan.json\"))[\"jobs\"] if n[\"id\"] == \"validate/park\"][0]; b = j[\"request\"][\"body\"]; assert b[\"loras\"] == [{\"path\": \"<input train/va>\", \"scale\": 0.8}], b; assert b[\"prompt\"] == \"VACHAR, walking in a park\", b; assert b[\"seed\"] == 7, b"
'
test_expect_success 'loramake R train trains, uploads the LoRA and validates with it' '
	lm r/recipe.yaml train >out 2>err &&
	test "$(submits $TR)" = 1 && test "$(submits $VA)" = 2 &&
	fake_bodies "[b[\"body\"] for b in d[\"bodies\"] if b[\"endpoint\"] == \"$VA\"]" >bodies &&
	python3 -c "import json; bs = json.load(open(\"bodies\")); assert all(b[\"loras\"][0][\"path\"].startswith(\"$FAKE_URL/files/u/\") and b[\"loras\"][0][\"path\"].endswith(\".safetensors\") and b[\"loras\"][0][\"scale\"] == 0.8 for b in bs), bs" &&
	test -f r/build/validate/park.png && test -f r/build/validate/cafe.png &&
	grep "^node validate/park " r/recipe.lock
'
test_expect_success 'a second loramake R train pays nothing: the validations are keyed by the LoRA in the cache' '
	lm r/recipe.yaml train >out 2>err &&
	test "$(submits $TR)" = 1 && test "$(submits $VA)" = 2 &&
	lm plan r/recipe.yaml train >plan &&
	grep "^validate/park .* cached" plan
'
test_expect_success 'a training resumed from the journal gives the same LoRA: its validations are taken from the cache' '
	cp -R r r3 &&
	tkey=$(sed -n "s/^node train\/va key=\([0-9a-f]*\) .*/\1/p" r3/recipe.lock) &&
	grep -v "^$tkey" r3/.loramake/actions >acts && cp acts r3/.loramake/actions &&
	sed -i "/^node train\/va /d" r3/recipe.lock &&
	lm r3/recipe.yaml train >out 2>err &&
	grep "came from requests an earlier build submitted" err &&
	test "$(submits $TR)" = 1 && test "$(submits $VA)" = 2 &&
	cmp r/build/validate/park.png r3/build/validate/park.png
'
test_expect_success 'a training with the same key that made another LoRA file makes the validations again' '
	cp -R r r2 &&
	tkey=$(sed -n "s/^node train\/va key=\([0-9a-f]*\) .*/\1/p" r2/recipe.lock) &&
	grep -v "^$tkey" r2/.loramake/actions >acts && cp acts r2/.loramake/actions &&
	sed -i "/^node train\/va /d" r2/recipe.lock && rm r2/.loramake/pending &&
	lm plan r2/recipe.yaml train >plan &&
	grep "^validate/park .* new\|^validate/park .* stale" plan &&
	lm r2/recipe.yaml train >out 2>err &&
	test "$(submits $TR)" = 2 && test "$(submits $VA)" = 4 &&
	test "$(sed -n "s/^node train\/va key=\([0-9a-f]*\) .*/\1/p" r2/recipe.lock)" = "$tkey" &&
	! cmp r/build/train/va.safetensors r2/build/train/va.safetensors
'
test_expect_success 'the fake refuses a path that is not a LoRA file, and the node fails in its words' '
	validate_recipe bad &&
	sed -i "s|^  scale: 0.8|  scale: 0.8\n  params: { loras: [{ path: \"$FAKE_URL/files/$PNG\", scale: 1 }] }|" bad/recipe.yaml &&
	expect_exit 1 lm bad/recipe.yaml train >out 2>err &&
	grep "FAILED validate/park: .*422.*not a safetensors file" err
'
test_expect_success 'validate needs a train: section and an endpoint that takes a LoRA' '
	validate_recipe nt && sed -i "/^train:/d" nt/recipe.yaml &&
	expect_exit 2 lm plan nt/recipe.yaml >out 2>err &&
	grep "validate needs a train: section" err &&
	validate_recipe nl && sed -i "s|^  scale: 0.8|  scale: 0.8\n  model: fal-ai/flux/dev|" nl/recipe.yaml &&
	expect_exit 2 lm plan nl/recipe.yaml >out 2>err &&
	grep "fal-ai/flux/dev. takes no LoRA" err
'
test_expect_success 'recipes/quickstart-train ends in two validation images, priced by plan R train' '
	cp -R "$SRC/recipes/quickstart-train" qs &&
	lm plan qs/recipe.yaml train >plan 2>err &&
	grep "^validate/park  *validate  *fal fal-ai/flux-2/lora  *new .*\$0.021" plan &&
	grep "^validate/studio " plan &&
	lm plan qs/recipe.yaml >plan 2>err &&
	grep "^not asked for: train/quickstart_train and 2 validation images, \$3.04" plan
'
test_expect_success 'no output or file shows the key' '
	no_secret "$FAL_KEY" out err r "$TRASH/fake.log"
'
test_done
