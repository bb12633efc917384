#!/bin/sh
# t5100: loramake check on crafted bad sets fails the right rules: a
# near-duplicate made of real images (one picture re-encoded, resized and
# brightened: tests/data/images/dup-a.jpg, dup-b.jpg) is found while two
# different preview images are not; mixed sizes; all one expression; all
# one background. Exit 1 on a fail; 0 when only warnings.
. "$(dirname "$0")/lib.sh"

# status RULE FILE: the rule's status in a check --json report
status() {
	python3 -c "import json, sys; print([r['status'] for r in json.load(open(sys.argv[2]))['rules'] if r['rule'] == sys.argv[1]][0])" "$1" "$2"
}

test_expect_success 'setup: a set of two copies of one picture and two previews' '
	mkdir bad &&
	cp "$SRC/tests/data/images/dup-a.jpg" "$SRC/tests/data/images/dup-b.jpg" bad/ &&
	cp "$SRC/tests/data/images/scene.png" bad/source.png &&
	cat >bad/recipe.yaml <<-EOF &&
	loramake: 1
	name: bad
	trigger: BADCHAR
	target: flux2
	engines:
	  gen: { type: preview }
	anchor:
	  items:
	    source: { file: source.png }
	    orig:   { file: dup-a.jpg, framing: closeup, expression: "tired — heavy eyelids", place: "a pine forest" }
	    copy:   { file: dup-b.jpg, framing: medium, expression: "tired — heavy eyelids", place: "a pine forest" }
	angle:
	  engine: gen
	  from: anchor/source
	  items:
	    left:  { caption: "in left profile", framing: medium, expression: "tired — heavy eyelids", place: "a pine forest" }
	    right: { caption: "in right profile", framing: full, expression: "tired — heavy eyelids", place: "a pine forest" }
	package: { format: fal-zip, size: 256 }
	EOF
	lm bad/recipe.yaml >out 2>err &&
	grep "^check: .* fail (" out
'
test_expect_success 'check exits 1 and fails duplicates, resolution, expressions, backgrounds' '
	expect_exit 1 lm check --json bad/recipe.yaml >bad.json &&
	test "$(status duplicates bad.json)" = fail &&
	test "$(status resolution bad.json)" = fail &&
	test "$(status expressions bad.json)" = fail &&
	test "$(status backgrounds bad.json)" = fail
'
test_expect_success 'the re-encoded, resized, brightened copy is found; the previews are not' '
	expect_exit 1 lm check bad/recipe.yaml >bad.out &&
	cat bad.out &&
	grep "anchor/orig ~ anchor/copy: [0-6] of 64 bits differ; both have the same expression, place$" bad.out &&
	! grep "angle/left ~ angle/right: [0-9]* of 64 bits differ" bad.out &&
	grep "^  fail  resolution   320x320 (1), 240x240 (1), 1024x1024 (2); package 256x256$" bad.out &&
	grep "^  fail  expressions  1 distinct" bad.out &&
	grep "^  fail  backgrounds  1 distinct" bad.out
'
test_expect_success 'white studio backgrounds everywhere fail too' '
	sed -i "s/a pine forest/a white studio/" bad/recipe.yaml &&
	sed -i "s/place: \"a white studio\" }$/place: \"a plain studio backdrop\" }/" bad/recipe.yaml &&
	expect_exit 1 lm check --json bad/recipe.yaml >white.json &&
	test "$(status backgrounds white.json)" = fail &&
	python3 -c "import json; r = [r for r in json.load(open(\"white.json\"))[\"rules\"] if r[\"rule\"] == \"backgrounds\"][0]; assert \"white or studio\" in r[\"advice\"], r"
'
test_expect_success 'a set with only warnings exits 0' '
	copy_recipe quickstart &&
	sed -i "s/^target: flux2$/target: flux/" quickstart/recipe.yaml &&
	lm quickstart/recipe.yaml >q.out 2>q.err &&
	lm check --json quickstart/recipe.yaml >q.json &&
	python3 -c "import json; j = json.load(open(\"q.json\")); assert j[\"fail\"] == 0 and j[\"warn\"] > 0, j"
'
test_done
