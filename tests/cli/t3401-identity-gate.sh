#!/bin/sh
# t3401: the identity gate (gate: { engine, against: hero, min }) against
# the fake Gemini API, which fails the images it made from given prompts:
# one call per generated image with the hero first and the image second,
# a back view's prompt saying silhouette and hair, not the face; a failed
# image is out of the package and marked in recipe.lock with its score
# and reasons; check's identity rule counts the failures and names the
# worst; an image kept by hand goes back in; --reroll-failed 2 rerolls a
# failing image at most twice, one that passes on its reroll once, and
# the plan prices what that may cost; what the build spent says so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gemini-lib.sh"
start_gemini --job-ms 20 || exit 1
export GEMINI_API_KEY=$GEMINI_TEST_KEY

# gate_recipe DIR: gem_recipe's six Gemini edits, judged against the hero
gate_recipe() {
	gem_recipe "$1" &&
	printf 'gate: { engine: gem, against: hero, min: 0.7 }\n' >>"$1/recipe.yaml"
}
# in_package DIR ID: the package's manifest lists image ID
in_package() {
	python3 - "$1" "$2" <<-'PY'
	import glob, json, sys
	m = json.load(open(glob.glob(sys.argv[1] + "/dist/gem/manifest.json")[0]))
	sys.exit(0 if any(f["node"] == sys.argv[2] for f in m["files"]) else 1)
	PY
}

test_expect_success 'the plan prices one gate call per generated image' '
	gate_recipe g &&
	lm plan g/recipe.yaml >plan &&
	test "$(grep -cE "^gate/[a-z]+ +gate +gem gemini-2.5-flash +new .*\\\$0.002$" plan)" = 6 &&
	! grep -q "^gate/hero" plan
'
test_expect_success 'a failed image is out of the package, marked in the lock with its reasons' '
	fake_control "{\"gate_fail\": [\"woman, back,\", \"woman, left,\"]}" &&
	lm g/recipe.yaml >out 2>err &&
	test "$(fake_stat "d[\"gate_calls\"]")" = 6 &&
	grep -E "^gate: angle/back failed \(0.35 < 0.70\): jaw wider; eyes soft; head turned to camera on a back view$" out &&
	grep -E "^gate: angle/left failed \(0.35 < 0.70\): jaw wider; eyes soft$" out &&
	grep -E "^gate angle/back [0-9a-f]{16} fail 0.35 jaw wider; eyes soft; head turned to camera on a back view$" g/recipe.lock &&
	grep -E "^gate angle/front [0-9a-f]{16} pass 0.92 -$" g/recipe.lock &&
	test "$(grep -c "^gate " g/recipe.lock)" = 6 &&
	! in_package g angle/back && ! in_package g angle/left &&
	in_package g angle/front && in_package g angle/closeup
'
test_expect_success 'the call: the hero, then the image; a back view is judged on silhouette and hair' '
	fake_bodies "[b for b in d[\"bodies\"] if b[\"model\"] == \"gemini-2.5-flash\"]" >bodies.json &&
	lm plan --json g/recipe.yaml >plan.json &&
	python3 - <<-PY
	import json
	bodies = json.load(open("bodies.json"))
	assert len(bodies) == 6, len(bodies)
	for b in bodies:
	    parts = b["body"]["contents"][0]["parts"]
	    assert len(parts) == 3 and all("inlineData" in p for p in parts[1:]), parts
	    assert set(b["body"]["generationConfig"]["responseSchema"]["properties"]) == {"score", "view", "reasons"}
	jobs = {j["id"]: j for j in json.load(open("plan.json"))["jobs"]}
	back = jobs["gate/back"]["request"]["body"]["contents"][0]["parts"][0]["text"]
	front = jobs["gate/front"]["request"]["body"]["contents"][0]["parts"][0]["text"]
	assert "judge it on silhouette and hair only, never on a face" in back, back
	assert "silhouette and hair only" not in front, front
	assert [i["node"] for i in jobs["gate/back"]["request"]["inputs"]] == ["hero", "angle/back"]
	PY
'
test_expect_success 'check: the identity rule counts the failures and names the worst' '
	{ lm check g/recipe.yaml >check || test $? = 1; } &&
	grep -E "^  warn  identity +6 of 6 judged, 2 failed \(under 0.70\); worst 0.35, 0.35, 0.92$" check &&
	grep -E "angle/back: 0.35, jaw wider; eyes soft; head turned to camera on a back view \(left out of the package\)" check
'
test_expect_success 'an image kept by hand goes back into the package' '
	lm pick g/recipe.yaml angle/left >pick &&
	lm g/recipe.yaml >out2 2>err2 &&
	in_package g angle/left && ! in_package g angle/back &&
	test "$(fake_stat "d[\"gate_calls\"]")" = 6 &&
	{ lm check g/recipe.yaml >check2 || test $? = 1; } &&
	grep -E "2 failed \(under 0.70\).*, 1 kept by hand$" check2
'
test_expect_success 'plan --reroll-failed 2: what rerolling every image not judged yet may cost' '
	gate_recipe r &&
	lm plan --reroll-failed 2 r/recipe.yaml >plan2 &&
	grep -E "^--reroll-failed 2: up to \\\$0.49 more \(0 images failed the identity gate, 6 not judged yet; each rerolled at most 2 times\)$" plan2
'
test_expect_success '--reroll-failed 2 rerolls a failing image at most twice, one that passes on its reroll once' '
	fake_control "{\"reset\": true, \"gate_fail\": [\"woman, back,\", \"once:woman, left,\"]}" &&
	lm --reroll-failed 2 r/recipe.yaml >out3 2>err3 &&
	grep -E "^gate: rerolling angle/back \(--reroll-failed round 1, reroll 1\)$" out3 &&
	grep -E "^gate: rerolling angle/back \(--reroll-failed round 2, reroll 2\)$" out3 &&
	grep -E "^gate: rerolling angle/left \(--reroll-failed round 1, reroll 1\)$" out3 &&
	test "$(grep -c "^gate: rerolling" out3)" = 3 &&
	grep -E "^reroll angle/back 2$" r/recipe.lock && grep -E "^reroll angle/left 1$" r/recipe.lock &&
	test "$(fake_stat "d[\"generated\"]")" = 9 &&
	test "$(fake_stat "d[\"gate_calls\"]")" = 9 &&
	grep -E "^gate angle/back [0-9a-f]{16} fail " r/recipe.lock &&
	grep -E "^gate angle/left [0-9a-f]{16} pass " r/recipe.lock &&
	! in_package r angle/back && in_package r angle/left &&
	grep -E "\\\$0.37 spent" out3
'
test_expect_success 'after the rounds, plan --reroll-failed prices rerolling what still fails; a rebuild asks nothing' '
	lm plan --reroll-failed 2 r/recipe.yaml >plan3 &&
	grep -E "^--reroll-failed 2: up to \\\$0.08 more \(1 image failed the identity gate, 0 not judged yet; each rerolled at most 2 times\)$" plan3 &&
	lm r/recipe.yaml >out4 2>err4 &&
	test "$(fake_stat "d[\"gate_calls\"]")" = 9
'
test_expect_success 'the key appears nowhere' '
	no_secret "$GEMINI_TEST_KEY" .
'
test_done
