#!/bin/sh
# t3413: the identity gate against closest (against: [hero, closest]):
# each image is judged against the hero and the anchor nearest it in
# camera angle (as refs: closest picks one), so a profile is judged
# against the profile keystone and a back view against the back one; the
# fake Gemini sees each gate's own references; an image with no camera,
# or a recipe with no anchor named by one, is a recipe error that says
# against:.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gemini-lib.sh"
start_gemini --job-ms 20 || exit 1
export GEMINI_API_KEY=$GEMINI_TEST_KEY

# closest_recipe DIR: gem_recipe's six edits, three keystone photos named
# by their cameras, judged against the hero and the closest keystone
closest_recipe() {
	gem_recipe "$1" &&
	cp "$SRC/recipes/jinx/keystones/hero.png" "$1/kf.png" &&
	cp "$SRC/tests/data/images/scene.png" "$1/kl.png" &&
	cp "$SRC/tests/data/images/scene.png" "$1/kb.png" &&
	printf 'l\n' >>"$1/kl.png" && printf 'b\n' >>"$1/kb.png" &&
	cat >>"$1/recipe.yaml" <<-EOF2
	anchor:
	  items:
	    front_view: { file: kf.png, caption: "seen from the front" }
	    left_view: { file: kl.png, caption: "in left profile" }
	    back_view: { file: kb.png, caption: "seen from behind" }
	gate: { engine: gem, against: [hero, closest], min: 0.7 }
	EOF2
}

test_expect_success 'plan: each gate sends the hero and the keystone nearest its camera' '
	closest_recipe g &&
	lm plan --json g/recipe.yaml >plan.json 2>err &&
	python3 - <<-PY
	import json
	jobs = {j["id"]: j for j in json.load(open("plan.json"))["jobs"]}
	want = {"gate/front": "anchor/front_view", "gate/closeup": "anchor/front_view",
	        "gate/left": "anchor/left_view", "gate/back": "anchor/back_view"}
	for g, ref in want.items():
	    ins = [i["node"] for i in jobs[g]["request"]["inputs"]]
	    assert ins == ["hero", ref, "angle/" + g[5:]], (g, ins)
	assert "gate/left_view" not in jobs, "a keystone photo is not judged"
	PY
'
test_expect_success 'the build: the fake sees each gate with its own keystone' '
	lm g/recipe.yaml >out 2>err &&
	hero=$(sha256sum g/hero.png | cut -d" " -f1) &&
	left=$(sha256sum g/kl.png | cut -d" " -f1) &&
	back=$(sha256sum g/kb.png | cut -d" " -f1) &&
	fake_stat "d[\"gate_refs\"]" >refs &&
	python3 - "$hero" "$left" "$back" <<-PY
	import json, sys
	hero, left, back = ("sha256:" + h for h in sys.argv[1:])
	refs = json.load(open("refs"))
	assert all(len(r) == 2 and r[0] == hero for r in refs), refs
	seconds = [r[1] for r in refs]
	assert seconds.count(left) == 1 and seconds.count(back) == 1, refs
	PY
'
test_expect_success 'closest with no anchor named by a camera is a recipe error that says against:' '
	gem_recipe n &&
	printf "gate: { engine: gem, against: [hero, closest], min: 0.7 }\n" >>n/recipe.yaml &&
	expect_exit 2 lm plan n/recipe.yaml >out 2>err &&
	grep "recipe.yaml:[0-9]*:[0-9]*: error: gate: against: closest finds no anchor named by a camera" err
'
test_done
