#!/bin/sh
# t3412: the lock's format version and the identity gate's lines: a lock
# with gate lines is written v3 (a v2 loramake reads it but never
# rewrites it, so it cannot drop the verdicts), one without stays v2; a
# v2 lock with gate lines (written before v3 was) is read, its verdicts
# used, and rewritten v3 by the next build; a lock of a later version
# (v4) is read for its verdicts and neither build nor pick rewrites it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gemini-lib.sh"
start_gemini --job-ms 20 || exit 1
export GEMINI_API_KEY=$GEMINI_TEST_KEY

# in_package DIR ID: the package's manifest lists image ID
in_package() {
	python3 - "$1" "$2" <<-'PY'
	import glob, json, sys
	m = json.load(open(glob.glob(sys.argv[1] + "/dist/gem/manifest.json")[0]))
	sys.exit(0 if any(f["node"] == sys.argv[2] for f in m["files"]) else 1)
	PY
}

test_expect_success 'a lock with gate lines is written v3, one without v2' '
	gem_recipe g && cp -r g plain &&
	printf "gate: { engine: gem, against: hero, min: 0.7 }\n" >>g/recipe.yaml &&
	fake_control "{\"gate_fail\": [\"woman, back,\"]}" &&
	lm g/recipe.yaml >out 2>err &&
	test "$(fake_stat "d[\"gate_calls\"]")" = 6 &&
	test "$(grep -c "^gate " g/recipe.lock)" = 6 &&
	head -n 1 g/recipe.lock >head &&
	echo "# loramake lock v3: machine-written; commit it with the recipe" >want &&
	cmp want head &&
	lm plain/recipe.yaml >pout 2>perr &&
	head -n 1 plain/recipe.lock >phead &&
	echo "# loramake lock v2: machine-written; commit it with the recipe" >pwant &&
	cmp pwant phead
'
test_expect_success 'a v2 lock with gate lines: its verdicts used, rewritten v3 by the next build' '
	cp g/recipe.lock v3.lock &&
	sed "1s/lock v3/lock v2/" v3.lock >g/recipe.lock &&
	rm g/.loramake/stamp-* &&
	lm plan g/recipe.yaml >plan 2>perr &&
	grep -E "^package .* cached" plan &&
	lm g/recipe.yaml >out2 2>err2 &&
	test "$(fake_stat "d[\"gate_calls\"]")" = 6 &&
	! in_package g angle/back && in_package g angle/front &&
	cmp v3.lock g/recipe.lock
'
test_expect_success 'a lock of a later version (v4): read for its verdicts, never rewritten' '
	sed "1s/lock v3/lock v4/" v3.lock >g/recipe.lock &&
	echo "badge angle/back gold" >>g/recipe.lock &&
	cp g/recipe.lock v4.lock &&
	lm plan g/recipe.yaml >plan4 2>err4 &&
	grep "written by a newer loramake (lock v4; this one knows v3)" err4 &&
	! grep "ignoring a line" err4 &&
	grep -E "^package .* cached" plan4 &&
	sed -i "s/same face,/same face, smiling,/" g/recipe.yaml &&
	expect_exit 2 lm g/recipe.yaml >out4 2>berr4 &&
	grep "not rewriting it, which would drop what this one cannot read" berr4 &&
	expect_exit 1 lm pick g/recipe.yaml angle/back 2>pkerr4 &&
	grep "not rewriting it" pkerr4 &&
	cmp v4.lock g/recipe.lock &&
	test "$(fake_stat "d[\"gate_calls\"]")" = 6
'
test_expect_success 'the key appears nowhere' '
	no_secret "$GEMINI_TEST_KEY" .
'
test_done
