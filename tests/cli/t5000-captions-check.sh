#!/bin/sh
# t5000: captions of RECIPE.md example 2 built with --engine preview (trigger
# first, one line, within Flux 2's bound, no character word, no constant
# attribute, all distinct), and `loramake check` on it: every rule reported
# with its figure, text and --json, and the summary a build prints.
. "$(dirname "$0")/lib.sh"

# A character text, so there are identity words to keep out of captions.
character='character: "JINXCHAR, a wiry young woman with long blue braids, pale freckled skin, pink eyes and cloud tattoos on her arms"'

test_expect_success 'a preview build prints the check summary' '
	copy_recipe jinx &&
	sed -i "s/^target: flux2$/&\n$character/" jinx/recipe.yaml &&
	grep "^character:" jinx/recipe.yaml &&
	lm -j 4 --engine preview jinx/recipe.yaml >out 2>err &&
	grep "^check: [0-9]* pass, [0-9]* warn, 0 fail; see loramake check jinx/recipe.yaml$" out
'
test_expect_success 'every caption: trigger first, one line, in bounds, no identity' '
	lm plan --json --engine preview jinx/recipe.yaml >tired-plan.json &&
	python3 - <<-PY &&
	import glob, json, re
	caps = {}
	for p in glob.glob("jinx/build/caption/**/*.txt", recursive=True):
	    caps[p] = open(p, "rb").read().decode("utf-8")
	assert len(caps) == 28, len(caps)
	# telling words of the character; eyes alone is generic (narrowed eyes)
	character = ["wiry", "young woman", "blue braids", "braids", "pale", "freckled", "pink eyes", "tattoos", "cloud tattoos"]
	for p, c in caps.items():
	    assert c.startswith("JINXCHAR "), (p, c)
	    assert "\n" not in c and "\r" not in c, p
	    assert len(c.split()) <= 80, (p, len(c.split()))
	    for w in character:
	        assert not re.search(r"\b%s\b" % w, c, re.I), (p, w, c)
	    for w in ["photorealistic", "8k", "masterpiece", "detailed"]:
	        assert w not in c.lower(), (p, w)
	assert len(set(caps.values())) == 28, "captions repeat"
	# an edited image names its expression descriptors and its environment
	# (the place it was given: docs/keys.md, assignments that stick)
	tired = caps["jinx/build/caption/front/tired.txt"]
	place = [n["environment"]["place"] for n in json.load(open("tired-plan.json"))["jobs"]
	         if n["id"] == "expression/front/tired"][0]
	assert "heavy eyelids" in tired and place in tired.lower(), (place, tired)
	assert 25 <= len(tired.split()) <= 80, tired
	# a pass-through back view is short, and not padded
	assert caps["jinx/build/caption/back.txt"] == "JINXCHAR seen from behind.", caps["jinx/build/caption/back.txt"]
	PY
	{ lm check --json --engine preview jinx/recipe.yaml >c.json || test $? = 1; } &&
	python3 -c "import json; r = {r[\"rule\"]: r for r in json.load(open(\"c.json\"))[\"rules\"]}; c = r[\"captions\"]; assert \"identity\" not in c[\"figure\"], c"
'
test_expect_success 'no caption names an attribute every image shares' '
	python3 - <<-PY &&
	import re
	s = open("jinx/recipe.yaml").read()
	s = re.sub(r"(framing: (medium|closeup|full|back))", r"\1, wardrobe: \"a grey jumpsuit\"", s)
	open("jinx/recipe.yaml", "w").write(s)
	PY
	lm plan --json --engine preview jinx/recipe.yaml >p.json &&
	python3 - <<-PY
	import json
	caps = [n["caption"] for n in json.load(open("p.json"))["jobs"] if n.get("caption")]
	assert len(caps) == 28
	assert not any("jumpsuit" in c for c in caps), [c for c in caps if "jumpsuit" in c]
	PY
'
test_expect_success 'check reports every rule with a figure' '
	rm -rf jinx && copy_recipe jinx &&
	lm -j 4 --engine preview jinx/recipe.yaml >build.out 2>build.err &&
	lm check --engine preview jinx/recipe.yaml >check.out &&
	cat check.out &&
	for r in count resolution framing angles expressions wardrobe backgrounds duplicates captions trigger prompts; do
		grep -E "^  (pass|warn|fail)  $r +[^ ]" check.out || { echo "no $r"; exit 1; }
	done &&
	grep "^  pass  count        28 images (Flux 2: 20-30)$" check.out &&
	grep "^  pass  resolution   all 28 are 1024x1024" check.out &&
	grep "^  warn  framing      close-up 36% (10), medium 46% (13), full 7% (2), back 11% (3)$" check.out &&
	grep "^  pass  angles       12 distinct" check.out &&
	grep "^  warn  expressions  5 distinct (want 5-7); neutral 43% (want 30-40%)$" check.out &&
	grep "^  pass  duplicates   0 near-duplicate pairs" check.out &&
	grep -E "^  warn  captions     28 captions, 4-[0-9]+ words \(Flux 2: 30-80\), [0-9]+ CLIP tokens at most; short 8; all distinct$" check.out &&
	grep "^check: 7 pass, 4 warn, 0 fail$" check.out
'
test_expect_success 'check --json is machine-readable and agrees' '
	lm check --json --engine preview jinx/recipe.yaml >check.json &&
	python3 - <<-PY
	import json
	j = json.load(open("check.json"))
	rules = {r["rule"]: r for r in j["rules"]}
	assert len(rules) == 11, rules.keys()
	assert j["images"] == 28 and j["package_built"] is True
	assert (j["pass"], j["warn"], j["fail"]) == (7, 4, 0)
	assert rules["framing"]["status"] == "warn" and "medium over" in rules["framing"]["advice"]
	assert any("upscale/back: 4 words" in d for d in rules["captions"]["details"])
	for r in rules.values():
	    assert r["figure"], r
	PY
'
test_expect_success 'check without --engine checks what the last build made (the lock), preview or not' '
	expect_exit 0 lm check jinx/recipe.yaml >nb.out &&
	cat nb.out &&
	! grep "not built yet" nb.out &&
	grep "^check jinx: flux2 (Flux 2), 28 images, package fal-zip$" nb.out &&
	grep "^  (the images are the last build.s: 28 of 28 differ from what this plan would build: engine changed" nb.out &&
	grep "^  pass  resolution   all 28 are 1024x1024; package 1024x1024$" nb.out &&
	grep "^  pass  duplicates   .*; 28 preview placeholders, not compared with each other$" nb.out &&
	lm check --json jinx/recipe.yaml >nb.json &&
	python3 -c "import json; j = json.load(open(\"nb.json\")); assert j[\"package_built\"] is True and j[\"earlier_keys\"] == 28, j"
'
test_expect_success 'with the build options, check says nothing of earlier keys' '
	lm check --engine preview jinx/recipe.yaml >same.out &&
	! grep "last build" same.out &&
	grep "^  pass  resolution   all 28 are 1024x1024" same.out
'
test_expect_success 'a recipe never built is still "not built yet"' '
	rm -rf fresh && copy_recipe quickstart && mv quickstart fresh &&
	lm check fresh/recipe.yaml >fresh.out &&
	grep "package fal-zip (not built yet)" fresh.out &&
	grep "^  warn  resolution   no image measured; package 1024x1024 (11 of 11 not built)$" fresh.out
'
test_expect_success 'sdxl: 120 captions within 50 words and CLIP'"'"'s 77 tokens, articles and nouns right' '
	mkdir sdxl && cp "$SRC/tests/data/sdxl-120.yaml" sdxl/recipe.yaml &&
	cp "$SRC/recipes/quickstart/hero.png" sdxl/ &&
	lm check --json sdxl/recipe.yaml >sdxl.json &&
	lm plan --json sdxl/recipe.yaml >sdxl-plan.json &&
	python3 - <<-PY
	import json, re
	j = json.load(open("sdxl.json"))
	c = [r for r in j["rules"] if r["rule"] == "captions"][0]
	assert j["images"] == 120, j["images"]
	m = re.search(r"(\d+) CLIP tokens at most", c["figure"])
	assert m and int(m.group(1)) <= 77, c["figure"]
	assert not [d for d in c["details"] if "CLIP reads" in d], c["details"]
	caps = [n["caption"] for n in json.load(open("sdxl-plan.json"))["jobs"] if n.get("caption")]
	assert len(caps) == 120
	for cap in caps:
	    assert len(cap.split()) <= 50, cap
	    assert "an one" not in cap and "looks genuine" not in cap and "looks smirk" not in cap, cap
	assert any("one raised mouth corner" in cap for cap in caps)
	assert any(re.search(r"(with a|A) genuine laugh", cap) for cap in caps)
	PY
'
test_done
