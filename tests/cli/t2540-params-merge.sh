#!/bin/sh
# t2540: an item's params: merge over its section's key by key
# (docs/recipe.md, "params"): the keys of recipes whose items have no
# params of their own are what they were before (tests/data/jinx-keys and
# jinx-params-keys were written by loramake before the merge; their package
# line since package layout 4, which stores PNGs in the ZIP), and an item
# given params of its own changes only its own nodes (its captions are
# words, not keys of the image: they stay).
. "$(dirname "$0")/lib.sh"
pj() { python3 "$SRC/tests/data/planjson.py" "$@"; }

# with_section_params IN OUT: jinx with params on its angle and expression
# sections (a LoRA list on the expression edits)
with_section_params() {
	sed -e '/^  model: fal-ai\/nano-banana-pro\/edit$/a\  params: { resolution: 2K, loras: [{ path: "https://example.com/jinx.safetensors", scale: 0.8 }] }' \
	    -e '/^  model: fal-ai\/qwen-image-edit-2511-multiple-angles$/a\  params: { lora_scale: 1.25 }' \
		"$1" >"$2" &&
	test "$(grep -c "^  params: " "$2")" -eq 2
}

test_expect_success 'recipes/jinx keys are those loramake gave it before params merged' '
	copy_recipe jinx &&
	lm plan --json jinx/recipe.yaml >plan.json &&
	pj keys plan.json >keys &&
	diff "$SRC/tests/data/jinx-keys" keys
'
test_expect_success 'jinx with section params: the keys of items without their own do not move' '
	with_section_params jinx/recipe.yaml jinx/params.yaml &&
	lm plan --json jinx/params.yaml >params.json &&
	pj keys params.json >keys &&
	diff "$SRC/tests/data/jinx-params-keys" keys
'
test_expect_success 'params on one expression item change exactly its edits, their upscales and the package' '
	sed "s/^    tired:   \(\".*\"\)$/    tired:   { text: \1, params: { guidance_scale: 3 } }/" \
		jinx/params.yaml >jinx/tired.yaml &&
	grep -q "params: { guidance_scale: 3 }" jinx/tired.yaml &&
	lm plan --json jinx/tired.yaml >tired.json &&
	pj changed params.json tired.json >changed &&
	for a in front closeup_front closeup_three_quarter three_quarter_left three_quarter_right; do
		printf "%s\n" "expression/$a/tired" "upscale/$a/tired" || return 1
	done >want && echo package >>want && sort want -o want &&
	diff want changed
'
test_done
