#!/bin/sh
# t3703: refs: closest (seed 004's keystone method): an angle or
# expression edit sends the anchor whose camera (its item's name) is
# nearest to its own (its item's, else its source's); not its own source
# again; bounded by the model's max_images; in the key as any ref; a
# recipe error when the node or no anchor names a camera.
. "$(dirname "$0")/lib.sh"

# keystones DIR: a recipe of three anchor files and Gemini edits, refs
# closest on the angles (REFS_ANGLE) and the expressions (REFS_EXPR).
keystones() {
	mkdir -p "$1/keystones" &&
	for k in front profile_left back; do
		cp "$SRC/recipes/jinx/keystones/hero.png" "$1/keystones/$k.png" || return 1
	done &&
	cat >"$1/recipe.yaml" <<-EOF2
	loramake: 1
	name: closest
	trigger: CLOSE
	target: flux
	engines:
	  gem: { type: gemini }
	anchor:
	  items:
	    front: { file: keystones/front.png }
	    profile_left: { file: keystones/profile_left.png }
	    back: { file: keystones/back.png }
	angle:
	  engine: gem
	  model: ${MODEL:-gemini-2.5-flash-image}
	  from: anchor/front
	  refs: ${REFS_ANGLE:-closest}
	  items:
	    three_quarter_left: { prompt: "turned left" }
	    back_right: { prompt: "from behind" }
	    front: { prompt: "from the front" }
	expression:
	  engine: gem
	  model: gemini-2.5-flash-image
	  refs: ${REFS_EXPR:-[closest]}
	  items:
	    tired: tired eyes
	EOF2
}

# refs_of FILE: "ID=REF,REF" per job of plan --json FILE with refs.
refs_of() {
	python3 - "$1" <<-'PY'
	import json, sys
	for j in json.load(open(sys.argv[1]))["jobs"]:
	    if j.get("refs"):
	        print("%s=%s" % (j["id"], ",".join(j["refs"])))
	PY
}

test_expect_success 'each edit sends the anchor nearest its camera (the first of equals, unless that is its source), never its own source twice' '
	keystones r1 &&
	GEMINI_API_KEY=k lm plan --json r1/recipe.yaml >plan.json 2>err &&
	refs_of plan.json >refs &&
	grep -qx "angle/back_right=anchor/back" refs &&
	grep -qx "angle/three_quarter_left=anchor/profile_left" refs &&
	! grep -q "^angle/front=" refs &&
	grep -qx "expression/back_right/tired=anchor/back" refs &&
	grep -qx "expression/three_quarter_left/tired=anchor/front" refs &&
	grep -qx "expression/front/tired=anchor/front" refs &&
	! grep -q "^expression/back/tired=" refs
'
test_expect_success 'closest and a named ref: the same anchor is sent once' '
	REFS_ANGLE="[closest, anchor/back]" keystones r2 &&
	GEMINI_API_KEY=k lm plan --json r2/recipe.yaml >plan2.json 2>err2 &&
	refs_of plan2.json >refs2 &&
	grep -qx "angle/back_right=anchor/back" refs2 &&
	grep -qx "angle/three_quarter_left=anchor/profile_left,anchor/back" refs2
'
test_expect_success 'the closest anchor is in the key: another keystone there remakes the edit' '
	GEMINI_API_KEY=k lm plan --json r1/recipe.yaml >before.json 2>err3 &&
	python3 -c "import sys; open(sys.argv[1],\"ab\").write(b\"\\0\" * 7)" r1/keystones/back.png &&
	GEMINI_API_KEY=k lm plan --json r1/recipe.yaml >after.json 2>err4 &&
	python3 - <<-PY
	import json
	k = lambda f: {j["id"]: j["key"] for j in json.load(open(f))["jobs"]}
	a, b = k("before.json"), k("after.json")
	assert a["angle/back_right"] != b["angle/back_right"]
	assert a["angle/three_quarter_left"] == b["angle/three_quarter_left"]
	PY
'
test_expect_success 'over the model'"'"'s max_images is a recipe error at the refs: line' '
	MODEL=black-forest-labs/flux-dev keystones r3 &&
	sed -i "s/^  engine: gem\$/  engine: rep/; s/^  gem: { type: gemini }\$/  gem: { type: gemini }\n  rep: { type: replicate }/" r3/recipe.yaml &&
	expect_exit 2 lm plan r3/recipe.yaml >out5 2>err5 &&
	grep -q "^r3/recipe.yaml:[0-9]*:[0-9]*: error: black-forest-labs/flux-dev takes at most 1 image in all" err5
'
test_expect_success 'an edit that names no camera, or anchors that name none, is a recipe error' '
	keystones r4 &&
	sed -i "s/    back_right: { prompt/    smiling: { prompt/; s/    front: { file/    first: { file/; s|from: anchor/front|from: anchor/first|" r4/recipe.yaml &&
	expect_exit 2 lm plan r4/recipe.yaml >out6 2>err6 &&
	grep -q "error: refs: closest needs angle/smiling to name a camera" err6 &&
	keystones r5 &&
	sed -i "s/    profile_left: { file/    left_photo: { file/; s/    back: { file/    spare: { file/; s/    front: { file/    first: { file/" r5/recipe.yaml &&
	sed -i "s|from: anchor/front|from: anchor/first|" r5/recipe.yaml &&
	expect_exit 2 lm plan r5/recipe.yaml >out7 2>err7 &&
	grep -q "error: refs: closest finds no anchor named by a camera" err7
'
test_done
