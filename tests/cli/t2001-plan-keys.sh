#!/bin/sh
# t2001: the plan of RECIPE.md example 2, and what changes node keys.
. "$(dirname "$0")/lib.sh"
pj() { python3 "$SRC/tests/data/planjson.py" "$@"; }

test_expect_success 'example 2 plans the seed job counts' '
	copy_recipe jinx &&
	lm plan --json jinx/recipe.yaml >plan.json &&
	pj counts plan.json >counts &&
	printf "angle 12\ncaption 28\nexpression 21\npackage 1\nupscale 28\n" >want &&
	diff want counts
'
test_expect_success 'the 7 skipped angles pass through to upscale unedited' '
	for a in profile_left profile_right low_angle high_angle back back_left back_right; do
		grep -q "\"upscale/$a\"" plan.json || exit 1
		! grep -q "\"expression/$a/" plan.json || exit 1
	done
'
test_expect_success 'the plan table ends with totals' '
	lm plan jinx/recipe.yaml >table &&
	grep "^90 jobs to run" table && grep "estimated cost \$1.81" table
'
test_expect_success 'reformatting the recipe changes no key' '
	cp "$SRC/tests/data/jinx-reformatted.yaml" jinx/reformatted.yaml &&
	lm plan --json jinx/reformatted.yaml >re.json &&
	pj changed plan.json re.json >changed &&
	test ! -s changed
'
test_expect_success 'editing one expression changes exactly its nodes and below' '
	sed "s/tired:   \"tired — slightly heavy eyelids/tired:   \"tired — very heavy eyelids/" \
		jinx/recipe.yaml >jinx/edited.yaml &&
	! cmp -s jinx/recipe.yaml jinx/edited.yaml &&
	lm plan --json jinx/edited.yaml >ed.json &&
	pj changed plan.json ed.json >changed &&
	for a in front closeup_front closeup_three_quarter three_quarter_left three_quarter_right; do
		printf "%s\n" "caption/$a/tired" "expression/$a/tired" "upscale/$a/tired" || return 1
	done | sort >want && echo package >>want && sort want -o want &&
	diff want changed
'
test_expect_success 'concurrency and comments are not part of any key' '
	sed "s/concurrency: 6/concurrency: 1/; s/^name: jinx/name: jinx  # a comment/" \
		jinx/recipe.yaml >jinx/conc.yaml &&
	lm plan --json jinx/conc.yaml >conc.json &&
	pj changed plan.json conc.json >changed && test ! -s changed
'
test_expect_success '--engine preview changes every generative key' '
	lm plan --json --engine preview jinx/recipe.yaml >pv.json &&
	python3 - <<-PY
	import json
	a = {j["id"]: j for j in json.load(open("plan.json"))["jobs"]}
	b = {j["id"]: j for j in json.load(open("pv.json"))["jobs"]}
	gen = [i for i, j in a.items() if j["engine"] == "fal"]
	assert len(gen) == 61, len(gen)
	for i in gen:
	    assert b[i]["engine"] == "preview" and b[i]["key"] != a[i]["key"], (i, a[i], b[i])
	PY
'
test_expect_success 'a fixed seed changes the key; a derived seed moves only with its node' '
	sed "s/^target: flux2/target: flux2\nseed: 42/" jinx/recipe.yaml >jinx/seeded.yaml &&
	lm plan --json jinx/seeded.yaml >seeded.json &&
	pj changed plan.json seeded.json >changed &&
	grep -q "^angle/front$" changed &&
	lm explain jinx/recipe.yaml angle/front >front1 &&
	lm explain jinx/edited.yaml angle/front >front2 &&
	grep "^  seed [0-9]* (derived from the key)$" front1 &&
	grep "^  \(key\|seed\) " front1 >ks1 && grep "^  \(key\|seed\) " front2 >ks2 &&
	test "$(wc -l <ks1)" = 2 && cmp ks1 ks2 &&
	lm explain jinx/recipe.yaml expression/front/tired >tired1 &&
	lm explain jinx/edited.yaml expression/front/tired >tired2 &&
	grep "^  seed [0-9]* (derived from the key)$" tired1 >seed1 &&
	grep "^  seed [0-9]* (derived from the key)$" tired2 >seed2 &&
	! cmp -s seed1 seed2
'
test_expect_success 'plan --json escapes what JSON needs escaped' '
	mkdir q && cat >q/recipe.yaml <<-\EOF &&
	loramake: 1
	engines: { g: { type: preview } }
	hero: { prompt: "say \"hi\" \\\\ tab\there \u0001 é ✓" }
	EOF
	lm plan --json q/recipe.yaml >q.json &&
	python3 -c "import json; d = json.load(open(\"q.json\")); p = d[\"jobs\"][0][\"prompt\"]; assert p == \"say \\\"hi\\\" \\\\\\\\ tab\\there \\x01 \\u00e9 \\u2713\", repr(p)"
'
test_expect_success 'graph writes dot and mermaid' '
	lm graph jinx/recipe.yaml >g.dot && grep -q "\"hero\" -> \"angle/front\"" g.dot &&
	lm graph --format mermaid jinx/recipe.yaml >g.mmd && grep -q "^flowchart LR" g.mmd
'
test_done
