#!/bin/sh
# t3400: vision captions (caption: { engine: NAME }) against the fake
# Gemini API's structured output: recipes/sandra without metadata.json
# gets one call per photo (JSON of the caption schema, the photo inline),
# captions written by loramake that pass every caption lint, priced in
# the plan and cached (a second build calls nothing); identity words in
# an answer ("freckles", "blue eyes") are cut out; metadata.json wins
# over the model; a broken answer (not JSON, a member not asked for, too
# long, a control character, a member missing, one twice) fails its node
# in words that name the fault, and nothing of it is cached; under
# --engine preview every answer is {} and nothing is called.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gemini-lib.sh"
start_gemini --job-ms 20 || exit 1
export GEMINI_API_KEY=$GEMINI_TEST_KEY

# sandra_vision DIR: recipes/sandra, its photos captioned by the fake
sandra_vision() {
	copy_recipe sandra && mv sandra "$1" && rm "$1/photos/metadata.json" &&
	cat >"$1/recipe.yaml" <<-EOF
	loramake: 1
	name: sandra
	trigger: sndr
	target: flux
	engines:
	  gem: { type: gemini, url: "$FAKE_URL" }
	anchor:
	  files: photos/*.jpg
	caption: { engine: gem }
	package: { format: kohya, size: 256, out: dist/sandra }
	EOF
}

test_expect_success 'the plan prices one vision call per photo on the default model' '
	sandra_vision s &&
	lm plan s/recipe.yaml >plan &&
	test "$(grep -cE "^vision/IMG_[0-9]+ +vision +gem gemini-2.5-flash +new .*\\\$0.002$" plan)" = 4 &&
	grep -E "^9 jobs to run \(4 caption, 1 package, 4 vision\), 0 cached$" plan
'
test_expect_success 'sandra without metadata.json: captions from the fake pass every caption lint' '
	lm s/recipe.yaml >out 2>err &&
	test "$(fake_stat "d[\"vision_calls\"]")" = 4 &&
	test "$(ls s/build/caption | wc -l)" = 4 &&
	test -z "$(grep -L "^sndr " s/build/caption/*.txt)" &&
	{ lm check s/recipe.yaml >check || test $? = 1; } &&
	grep -E "^  pass  captions +4 captions, [0-9]+-[0-9]+ words .*; all distinct$" check &&
	{ lm check --json s/recipe.yaml >check.json || test $? = 1; } &&
	python3 - <<-PY
	import json
	rules = {r["rule"]: r for r in json.load(open("check.json"))["rules"]}
	assert rules["captions"]["status"] == "pass", rules["captions"]
	PY
'
test_expect_success 'the call: the photo inline, JSON of the caption schema, identity named as what not to describe' '
	fake_bodies "d[\"bodies\"]" >bodies.json &&
	lm plan --json s/recipe.yaml >plan.json &&
	python3 - <<-PY
	import json
	bodies = [b for b in json.load(open("bodies.json")) if b["model"] == "gemini-2.5-flash"]
	assert len(bodies) == 4, bodies
	for b in bodies:
	    parts = b["body"]["contents"][0]["parts"]
	    assert len(parts) == 2 and parts[1]["inlineData"]["mimeType"] == "image/jpeg", parts
	    gc = b["body"]["generationConfig"]
	    assert gc["responseMimeType"] == "application/json", gc
	    assert "responseModalities" not in gc, gc
	    props = gc["responseSchema"]["properties"]
	    assert set(props) == {"expression", "expression_details", "angle", "framing",
	                          "place", "light", "wardrobe", "pose"}, props
	    assert props["framing"]["enum"] == ["closeup", "medium", "full", "back"], props
	    assert props["expression_details"]["minItems"] == 2, props
	plan = json.load(open("plan.json"))
	vis = [n for n in plan["jobs"] if n["kind"] == "vision"]
	assert len(vis) == 4, vis
	text = vis[0]["request"]["body"]["contents"][0]["parts"][0]["text"]
	assert "constant identity: no face shape, eye colour" in text, text
	PY
'
test_expect_success 'the answers are cached: a second build calls nothing' '
	lm s/recipe.yaml >out2 2>err2 &&
	grep -E "^nothing to do" out2 &&
	test "$(fake_stat "d[\"vision_calls\"]")" = 4
'
test_expect_success 'an expression detail naming identity ("freckles", "blue eyes") is dropped from the captions' '
	sandra_vision id &&
	fake_control "{\"vision_answer\": {\"expression_details\": [\"blue eyes bright\", \"freckles on the cheeks\", \"raised brows\"]}}" &&
	lm id/recipe.yaml >out3 2>err3 &&
	cat id/build/caption/*.txt >captions &&
	test "$(wc -l <captions)" = 0 && test -s captions &&
	! grep -iE "freckle|blue eyes" captions &&
	test "$(grep -o "raised brows" captions | wc -l)" = 4 &&
	! grep -E "bright|cheeks" captions &&
	{ lm check id/recipe.yaml >check3 || test $? = 1; } &&
	grep -E "^  pass  captions " check3
'
test_expect_success 'metadata.json wins over the model where it gives a value' '
	sandra_vision meta &&
	fake_control "{\"vision_answer\": null}" &&
	cp "$SRC/recipes/sandra/photos/metadata.json" meta/photos/ &&
	lm meta/recipe.yaml >out4 2>err4 &&
	grep -q "cafe terrace" meta/build/caption/IMG_0601.txt &&
	grep -q "park bench" meta/build/caption/IMG_0618.txt &&
	grep -qi "kitchen" meta/build/caption/IMG_0412.txt &&
	grep -qi "kitchen" s/build/caption/IMG_0412.txt
'
for fault in not_json:"the answer is not a JSON object" \
	     extra_member:"the answer has a member '"'"'eye_colour'"'"' not asked for" \
	     too_long:"'"'"'place'"'"' is [0-9]+ bytes" control:"'"'"'place'"'"' holds a control character" \
	     missing:"the answer lacks '"'"'light'"'"'" duplicate:"the answer is not a JSON object"; do
	name=${fault%%:*} words=${fault#*:}
	test_expect_success "a broken answer ($name) fails its node in the fault's words, nothing cached" '
		sandra_vision '"$name"' &&
		fake_control "{\"vision_answer\": null, \"vision_bad\": \"'"$name"'\"}" &&
		{ lm '"$name"'/recipe.yaml >out 2>err || test $? = 1; } &&
		test "$(grep -cE "^FAILED vision/IMG_[0-9]+: '"'"'gemini-2.5-flash'"'"' did not answer the caption question: '"$words"'" err)" = 4 &&
		! grep -q "$(printf "\033")" err &&
		! test -e '"$name"'/build/vision &&
		fake_control "{\"vision_bad\": \"\"}" &&
		lm '"$name"'/recipe.yaml >again 2>again.err &&
		test "$(ls '"$name"'/build/vision | wc -l)" = 4
	'
done
test_expect_success '--engine preview: every answer is {}, no call, the captions are the recipe'"'"'s words' '
	sandra_vision pv &&
	cp "$SRC/recipes/sandra/photos/metadata.json" pv/photos/ &&
	fake_control "{\"reset_stats\": true}" &&
	lm --engine preview pv/recipe.yaml >out5 2>err5 &&
	test "$(cat pv/build/vision/IMG_0412.json)" = "{}" &&
	grep -q "cafe terrace" pv/build/caption/IMG_0601.txt &&
	test "$(fake_stat "d[\"calls_total\"]")" = 0
'
test_expect_success 'the key appears nowhere' '
	no_secret "$GEMINI_TEST_KEY" .
'
test_done
