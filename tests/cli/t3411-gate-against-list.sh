#!/bin/sh
# t3411: the identity gate against several references (against: a list):
# each gate sends the references in the list's order, then the image it
# judges, and the fake Gemini sees them (its gate_refs ledger); an image
# of the list is a reference, never judged; the prompt speaks of the
# references and the last image (a back view's too); the references are
# in the gate's key (another list judges again), while against: [hero]
# keys as against: hero did; an unknown node, an empty list, a node named
# twice and a list over the model's images are recipe errors (exit 2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gemini-lib.sh"
start_gemini --job-ms 20 || exit 1
export GEMINI_API_KEY=$GEMINI_TEST_KEY

# gate_with DIR AGAINST: gem_recipe's six edits, judged against AGAINST
gate_with() {
	gem_recipe "$1" &&
	printf 'gate: { engine: gem, against: %s, min: 0.7 }\n' "$2" >>"$1/recipe.yaml"
}
# in_package DIR ID: the package's manifest lists image ID
in_package() {
	python3 - "$1" "$2" <<-'PY'
	import glob, json, sys
	m = json.load(open(glob.glob(sys.argv[1] + "/dist/gem/manifest.json")[0]))
	sys.exit(0 if any(f["node"] == sys.argv[2] for f in m["files"]) else 1)
	PY
}
# gate_line DIR: the line of DIR/recipe.yaml's gate:
gate_line() { grep -n "^gate:" "$1/recipe.yaml" | cut -d: -f1; }

test_expect_success 'plan: each gate sends the references in order, then its image' '
	gate_with g "[hero, angle/front]" &&
	lm plan --json g/recipe.yaml >plan.json &&
	python3 - <<-PY
	import json
	jobs = {j["id"]: j for j in json.load(open("plan.json"))["jobs"]}
	gates = sorted(i for i in jobs if i.startswith("gate/"))
	assert gates == ["gate/back", "gate/closeup", "gate/left", "gate/low", "gate/right"], gates
	for g in gates:
	    ins = [i["node"] for i in jobs[g]["request"]["inputs"]]
	    assert ins == ["hero", "angle/front", "angle/" + g[5:]], (g, ins)
	    text = jobs[g]["request"]["body"]["contents"][0]["parts"][0]["text"]
	    assert text.startswith("Every image but the last is a reference of one character"), text
	    assert "the last image shows the same person as the references" in json.dumps(jobs[g]["request"]["body"]), g
	back = jobs["gate/back"]["request"]["body"]["contents"][0]["parts"][0]["text"]
	assert "The last image is meant as a back view" in back, back
	PY
'
test_expect_success 'the build: the fake sees both references in every gate call' '
	fake_control "{\"gate_fail\": [\"woman, back,\"]}" &&
	lm g/recipe.yaml >out 2>err &&
	test "$(fake_stat "d[\"gate_calls\"]")" = 5 &&
	hero=$(sha256sum g/hero.png | cut -d" " -f1) &&
	fake_stat "d[\"gate_refs\"]" >refs &&
	python3 - "$hero" <<-PY &&
	import json, sys
	refs = json.load(open("refs"))
	assert len(refs) == 5, refs
	for r in refs:
	    assert len(r) == 2 and r[0] == "sha256:" + sys.argv[1], r
	    assert r[1].startswith("the same woman, front, same face"), r  # angle/front, as made
	PY
	grep -E "^gate: angle/back failed \(0.35 < 0.70\)" out &&
	! grep -q "^gate angle/front " g/recipe.lock &&
	! in_package g angle/back && in_package g angle/front && in_package g angle/left
'
test_expect_success 'the references are in the key: another list judges again' '
	sed -i "s|against: \[hero, angle/front\]|against: [hero, angle/closeup]|" g/recipe.yaml &&
	lm plan g/recipe.yaml >plan2 2>err2 &&
	test "$(grep -cE "^gate/[a-z]+ +gate .* stale +input changed" plan2)" = 4 &&
	grep -E "^gate/front +gate .* new" plan2 &&
	! grep -E "^gate/closeup " plan2
'
test_expect_success 'against: [hero] keys as against: hero: nothing judged again' '
	gate_with one hero &&
	lm one/recipe.yaml >out3 2>err3 &&
	test "$(fake_stat "d[\"gate_calls\"]")" = 11 &&
	sed -i "s/against: hero,/against: [hero],/" one/recipe.yaml &&
	lm plan one/recipe.yaml >plan3 2>err3 &&
	grep "^0 jobs to run" plan3 &&
	lm plan --json one/recipe.yaml >plan3.json &&
	python3 - <<-PY
	import json
	jobs = {j["id"]: j for j in json.load(open("plan3.json"))["jobs"]}
	text = jobs["gate/back"]["request"]["body"]["contents"][0]["parts"][0]["text"]
	assert text.startswith("The first image is the reference of a character"), text
	assert "The second image is meant as a back view" in text, text
	PY
'
test_expect_success 'an unknown node in against: is a recipe error at its place' '
	gate_with bad "[hero, nosuch]" &&
	expect_exit 2 lm plan bad/recipe.yaml >out4 2>err4 &&
	grep -F "bad/recipe.yaml:$(gate_line bad):38: error: gate: against: '"'"'nosuch'"'"' is not an image of the recipe" err4
'
test_expect_success 'more references than the model takes images is a recipe error' '
	gate_with many "[hero, angle/front, angle/left]" &&
	expect_exit 2 lm plan many/recipe.yaml >out5 2>err5 &&
	grep -F "many/recipe.yaml:$(gate_line many):31: error: gate: gemini-2.5-flash takes at most 3 images in all, and against: names 3 references (each gate sends them and the image it judges: at most 2 references)" err5
'
test_expect_success 'an empty against: and a node named twice are recipe errors' '
	gate_with none "[]" &&
	expect_exit 2 lm plan none/recipe.yaml >out6 2>err6 &&
	grep -F "none/recipe.yaml:$(gate_line none):31: error: gate: against: names no image" err6 &&
	gate_with twice "[hero, hero]" &&
	expect_exit 2 lm plan twice/recipe.yaml >out7 2>err7 &&
	grep -F "twice/recipe.yaml:$(gate_line twice):38: error: '"'"'hero'"'"' is in against twice" err7
'
test_expect_success 'the key appears nowhere' '
	no_secret "$GEMINI_TEST_KEY" .
'
test_done
