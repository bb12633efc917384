#!/bin/sh
# t3104: a negative prompt reaches a Replicate model only where its
# family takes one (compiler/engine_type.c), as compiling says: recipes/maya
# warned that flux-kontext-pro takes none while its request carried it.
# plan --json shows every node's negative beside its prompt (its key has it).
. "$(dirname "$0")/lib.sh"

test_expect_success 'maya: the pinned LoRA model gets the negative, flux-kontext-pro does not' '
	copy_recipe maya &&
	lm plan --json maya/recipe.yaml >plan.json 2>err &&
	grep "flux-kontext-pro takes no negative prompt: the character.s negative: is not sent to angle/desk" err &&
	python3 - <<-\PY
	import json
	jobs = {j["id"]: j for j in json.load(open("plan.json"))["jobs"]}
	neg = "blurry, low quality, extra fingers, watermark"
	front, desk = jobs["anchor/front"], jobs["angle/desk"]
	assert front["request"]["body"]["input"]["negative_prompt"] == neg, front["request"]
	assert "negative_prompt" not in desk["request"]["body"]["input"], desk["request"]
	assert front["negative"] == neg and desk["negative"] == neg, (front, desk)
	PY
'
test_done
