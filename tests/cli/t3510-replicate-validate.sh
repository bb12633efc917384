#!/bin/sh
# t3510: validate: on Replicate, black-forest-labs/flux-dev-lora: the
# trained LoRA (the cached file, no image) goes up through POST /v1/files
# and each prediction carries its urls.get as lora_weights with the
# scale as lora_scale; plan R train prices each at the table's $0.032; a
# second run pays nothing; a training that made another LoRA file
# validates again with that file; a 422 from the model fails that node
# in Replicate's words while the other validation is made; an upload
# whose urls.get is on another host fails the node before it pays; an
# aspect the model does not list is a recipe error; another section's
# image into the model is its image; the quickstart runs on the fake.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/replicate-lib.sh"
start_replicate --job-ms 50 || exit 1
export REPLICATE_API_TOKEN=$REPLICATE_TEST_KEY
VER=a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90
VA=black-forest-labs/flux-dev-lora

recipe() {
	mkdir -p "$1" && cp "$SRC/recipes/jinx/keystones/hero.png" "$1/a.png" &&
	cp "$SRC/tests/data/images/scene.png" "$1/b.png" &&
	cat >"$1/recipe.yaml" <<-EOF2
	loramake: 1
	name: rv
	trigger: RVCHAR
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
	  destination: me/rv-lora
	validate:
	  scale: 0.8
	  seed: 7
	  items:
	    park: "walking in a park"
	    cafe: { prompt: "{trigger} reading in a cafe", aspect: "2:3" }
	EOF2
}

trainings() { fake_stat "d[\"trainings\"]"; }
validations() { fake_stat "len([s for s in d[\"submitted\"] if s[\"model\"] == \"$VA\"])"; }
sha() { sha256sum "$1" | cut -d" " -f1; }
# every LoRA prediction from the N-th on: its lora_weights the urls.get
# of a .safetensors upload of the file whose sha256 is $2, at scale 0.8
lora_bodies_use() {
	fake_bodies "{\"up\": d[\"uploaded\"], \"bodies\": [b[\"body\"][\"input\"] for b in d[\"bodies\"] if b[\"model\"] == \"$VA\"][$1:]}" >ledger &&
	python3 - ledger "$2" <<-'PY'
	import json, sys
	d = json.load(open(sys.argv[1]))
	mine = {u["url"] for u in d["up"] if u["sha256"] == sys.argv[2]
	        and u["name"].endswith(".safetensors")
	        and u["content_type"] == "application/octet-stream"}
	assert mine, ("no upload of the LoRA", d["up"])
	assert d["bodies"], "no LoRA prediction"
	for b in d["bodies"]:
	    assert b["lora_weights"] in mine, (b, mine)
	    assert b["lora_scale"] == 0.8 and b["num_outputs"] == 1, b
	    assert "image" not in b, b
	PY
}

# upload_as_lora FILE: POST FILE to the fake's /v1/files as a .safetensors
# (whatever its bytes); prints its urls.get
upload_as_lora() {
	python3 - "$FAKE_URL/v1/files" "$REPLICATE_API_TOKEN" "$1" <<-'PY'
	import json, sys, urllib.request
	b = "t3510-b0undary"
	body = ("--%s\r\nContent-Disposition: form-data; name=\"content\"; filename=\"a.safetensors\"\r\n"
	        "Content-Type: application/octet-stream\r\n\r\n" % b).encode() + \
	    open(sys.argv[3], "rb").read() + ("\r\n--%s--\r\n" % b).encode()
	r = urllib.request.Request(sys.argv[1], data=body, headers={
	    "Authorization": "Bearer " + sys.argv[2],
	    "Content-Type": "multipart/form-data; boundary=" + b})
	print(json.load(urllib.request.urlopen(r, timeout=10))["urls"]["get"])
	PY
}

test_expect_success 'plan R train prices each validation at black-forest-labs/flux-dev-lora'"'"'s $0.032 and shows lora_weights' '
	recipe r &&
	lm plan r/recipe.yaml >plan 2>err &&
	grep "^validate/park  *validate  *rep $VA  *unasked" plan &&
	lm plan r/recipe.yaml train >plan 2>err &&
	grep "^validate/park  *validate  *rep $VA  *new .*\$0.032" plan &&
	grep "^validate/cafe  *validate  *rep $VA  *new .*\$0.032" plan &&
	grep "estimated cost \$1.89" plan &&
	lm plan --json r/recipe.yaml train >plan.json &&
	python3 -c "import json; js = {n[\"id\"]: n[\"request\"] for n in json.load(open(\"plan.json\"))[\"jobs\"] if n[\"kind\"] == \"validate\"}; p = js[\"validate/park\"]; assert p[\"url\"] == \"$FAKE_URL/v1/models/$VA/predictions\", p; assert p[\"body\"] == {\"input\": {\"prompt\": \"RVCHAR, walking in a park\", \"lora_weights\": \"<input train/rv>\", \"lora_scale\": 0.8, \"seed\": 7, \"num_outputs\": 1, \"output_format\": \"png\"}}, p; c = js[\"validate/cafe\"][\"body\"][\"input\"]; assert c[\"aspect_ratio\"] == \"2:3\" and c[\"prompt\"] == \"RVCHAR reading in a cafe\", c"
'
test_expect_success 'loramake R train trains, uploads the LoRA and validates with its urls.get as lora_weights' '
	lm r/recipe.yaml train >out 2>err &&
	test "$(trainings)" = 1 && test "$(validations)" = 2 &&
	lora_bodies_use 0 "$(sha r/build/train/rv.safetensors)" &&
	test "$(fake_stat "d[\"submits_by_key\"].get(\"$(sed -n "s/^node validate\/park key=\([0-9a-f]*\) .*/\1/p" r/recipe.lock)\", 0)")" = 1 &&
	check_pngs r/build/validate &&
	test -f r/build/validate/park.png && test -f r/build/validate/cafe.png &&
	grep "^node validate/park .* usd=0.032 " r/recipe.lock
'
test_expect_success 'a second loramake R train pays nothing and uploads nothing' '
	ups=$(fake_stat "d[\"uploads\"]") &&
	lm r/recipe.yaml train >out 2>err &&
	test "$(trainings)" = 1 && test "$(validations)" = 2 &&
	test "$(fake_stat "d[\"uploads\"]")" = "$ups" &&
	lm plan r/recipe.yaml train >plan &&
	grep "^validate/park .* cached" plan && grep "^validate/cafe .* cached" plan
'
test_expect_success 'a retraining that made another LoRA file validates again, with that file' '
	cp -R r r2 &&
	tkey=$(sed -n "s/^node train\/rv key=\([0-9a-f]*\) .*/\1/p" r2/recipe.lock) &&
	grep -v "^$tkey" r2/.loramake/actions >acts && cp acts r2/.loramake/actions &&
	sed -i "/^node train\/rv /d" r2/recipe.lock && rm -f r2/.loramake/pending &&
	lm r2/recipe.yaml train >out 2>err &&
	test "$(trainings)" = 2 && test "$(validations)" = 4 &&
	test "$(sed -n "s/^node train\/rv key=\([0-9a-f]*\) .*/\1/p" r2/recipe.lock)" = "$tkey" &&
	! cmp r/build/train/rv.safetensors r2/build/train/rv.safetensors &&
	lora_bodies_use 2 "$(sha r2/build/train/rv.safetensors)" &&
	! cmp r/build/validate/park.png r2/build/validate/park.png
'
test_expect_success 'a 422 of the model fails that validation in Replicate'"'"'s words; the other is made' '
	cp -R r bad && sed -i "s/^  seed: 7/  seed: 8/; s|^    park: .*|    park: { prompt: \"walking\", params: { lora_weights: \"https://example.com/x.safetensors\" } }|" bad/recipe.yaml &&
	expect_exit 1 lm bad/recipe.yaml train >out 2>err &&
	grep "FAILED validate/park: .*422.*- input.lora_weights: could not load LoRA weights from https://example.com/x.safetensors: this server takes only a file uploaded to its /v1/files" err &&
	grep "^node validate/cafe .* seed=8 usd=0.032 " bad/recipe.lock && ! grep "^node validate/park .* seed=8 " bad/recipe.lock &&
	test "$(trainings)" = 2 && test "$(validations)" = 5 &&
	lm plan bad/recipe.yaml train >plan 2>err &&
	grep -A1 "^failed when last tried" plan | grep "^  validate/park: .*(422): - input.lora_weights: could not load LoRA weights"
'
test_expect_success 'a lora_weights upload that is not a safetensors file is refused by the model: the node fails' '
	png=$(upload_as_lora r/a.png) &&
	cp -R r png && sed -i "s|^    park: .*|    park: { prompt: \"walking\", params: { lora_weights: \"$png\" } }|" png/recipe.yaml &&
	expect_exit 1 lm png/recipe.yaml train >out 2>err &&
	grep "FAILED validate/park: .*422.*- input.lora_weights: could not load LoRA weights from $png: not a safetensors file" err &&
	test "$(validations)" = 5
'
test_expect_success 'an upload whose urls.get is on another host fails the validation before it pays' '
	cp -R r host && sed -i "s/^  seed: 7/  seed: 9/" host/recipe.yaml &&
	fake_control "{\"files_url_base\": \"http://127.0.0.2:9\"}" &&
	expect_exit 1 lm host/recipe.yaml train >out 2>err &&
	fake_control "{\"files_url_base\": \"\"}" &&
	grep "FAILED validate/park: .*urls.get.*refusing to send the key" err &&
	test "$(trainings)" = 2 && test "$(validations)" = 5
'
test_expect_success 'an aspect flux-dev-lora does not list is a recipe error, its model the default one' '
	recipe asp && sed -i "s/aspect: \"2:3\"/aspect: \"7:5\"/" asp/recipe.yaml &&
	expect_exit 2 lm plan asp/recipe.yaml train >out 2>err &&
	grep "recipe.yaml:[0-9]*:[0-9]*: error: $VA takes the aspect ratios 1:1, 16:9, 21:9, 3:2, 2:3, 4:5, 5:4, 3:4, 4:3, 9:16, 9:21, not 7:5" err
'
test_expect_success 'an image into flux-dev-lora from another section is its image, not lora_weights' '
	recipe img && sed -i "s|^anchor:|hero: { file: a.png }\nangle:\n  engine: rep\n  model: $VA\n  from: hero\n  items: { front: { caption: front } }\nanchor:|" img/recipe.yaml &&
	lm plan --json img/recipe.yaml >plan.json 2>err &&
	python3 -c "import json; j = [n for n in json.load(open(\"plan.json\"))[\"jobs\"] if n[\"id\"] == \"angle/front\"][0]; i = j[\"request\"][\"body\"][\"input\"]; assert i[\"image\"] == \"<input hero>\" and \"lora_weights\" not in i and \"lora_scale\" not in i, i"
'
test_expect_success 'recipes/quickstart-train-replicate trains and validates on Replicate, offline against the fake' '
	cp -R "$SRC/recipes/quickstart-train-replicate" qs && use_replicate qs/recipe.yaml &&
	lm plan qs/recipe.yaml train >plan 2>err &&
	grep "^validate/park  *validate  *rep $VA  *new .*\$0.032" plan &&
	lm qs/recipe.yaml train >out 2>err &&
	test "$(trainings)" = 3 && test "$(validations)" = 7 &&
	test -f qs/build/validate/park.png && test -f qs/build/validate/studio.png
'
test_expect_success 'no output or file shows the key' '
	no_secret "$REPLICATE_API_TOKEN" out err r r2 bad png host qs "$TRASH/fake.log"
'
test_done
