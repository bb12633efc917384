#!/bin/sh
# t2710: the plan's ETA comes from the build's own history (cache/times.h,
# cli/eta.c). Before any build a node takes the engine table's seconds;
# after one, a job of the same engine, model and kind takes what it took
# here, and the package what assembling and normalising took per image,
# so a one-image edit's package is priced at one normalisation, not the
# set's. A times file from a stranger (garbage, NaN, a day's worth of
# digits) is read as far as it is valid and never trusted beyond it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 700 || exit 1

# node PLAN ID FIELD: a field of node ID in plan --json output PLAN
node() {
	python3 - "$@" <<-\PY
	import json, sys
	jobs = {j["id"]: j for j in json.load(open(sys.argv[1]))["jobs"]}
	print(json.dumps(jobs[sys.argv[2]][sys.argv[3]]))
	PY
}

# between LO X HI: LO <= X < HI
between() {
	python3 -c 'import sys; lo, x, hi = map(float, sys.argv[1:]); sys.exit(not lo <= x < hi)' "$@"
}

setup() {
	tiny r && cat >>r/recipe.yaml <<-\EOF
	caption: {}
	package: { format: fal-zip, size: 64, out: dist/tiny.zip }
	EOF
}

test_expect_success 'before any build: the engine table seconds, timed false' '
	setup &&
	lm plan --json r/recipe.yaml >p0.json 2>p0.err &&
	test "$(node p0.json angle/front timed)" = false &&
	test "$(node p0.json angle/front seconds)" = 22 &&
	test "$(node p0.json package timed)" = false
'

test_expect_success 'a build learns each kind of job: a fal angle row of 2 jobs, the package per image' '
	FAL_KEY=$FAL_TEST_KEY lm build r/recipe.yaml >b1.out 2>b1.err &&
	test -f r/dist/tiny.zip &&
	sed -n 1p r/.loramake/times >head &&
	echo "# loramake times v1" >want && diff -u want head &&
	awk -F"\t" "\$1 == \"fal\" && \$3 == \"angle\" {print \$2, \$5}" r/.loramake/times >fal &&
	echo "$MA 2" >want && diff -u want fal &&
	secs=$(awk -F"\t" "\$1 == \"fal\" && \$3 == \"angle\" {print \$4}" r/.loramake/times) &&
	between 0.7 "$secs" 21 &&
	grep -q "^package	assemble	package	" r/.loramake/times &&
	grep -q "^package	normalise	package	[0-9.]*	2$" r/.loramake/times
'

test_expect_success 'after an edit: the stale angle takes what fal took here, the package one normalisation' '
	sed -i "s/seen from behind/seen from the back/; s/back: { caption/back: { params: { additional_prompt: turn around }, caption/" r/recipe.yaml &&
	lm plan --json r/recipe.yaml >p1.json 2>p1.err &&
	test "$(node p1.json angle/back state)" = "\"stale\"" &&
	test "$(node p1.json angle/back timed)" = true &&
	between 0.7 "$(node p1.json angle/back seconds)" 21 &&
	test "$(node p1.json package timed)" = true &&
	assemble=$(awk -F"\t" "\$2 == \"assemble\" {print \$4}" r/.loramake/times) &&
	normalise=$(awk -F"\t" "\$2 == \"normalise\" {print \$4}" r/.loramake/times) &&
	cores=$(getconf _NPROCESSORS_ONLN) &&
	python3 -c "import sys; a, n, c, got = map(float, sys.argv[1:]); want = 2 * a + n / c; sys.exit(abs(got - want) > 1e-3 + want * 1e-6)" \
		"$assemble" "$normalise" "$cores" "$(node p1.json package seconds)"
'

test_expect_success 'a damaged times file: valid rows are used, the rest skipped, no crash' '
	cp r/.loramake/times good &&
	{
		sed -n 1p good &&
		printf "fal\t$MA\tangle\tnan\t3\n" &&
		printf "fal\t$MA\tangle\t-1\t3\n" &&
		printf "fal\t$MA\tangle\t1e300\t3\n" &&
		printf "fal\t$MA\tangle\t2\t0\n" &&
		printf "fal\tbad model\tangle\t2\t3\n" &&
		printf "fal\t$MA\tangle\t2\n" &&
		printf "preview\t-\tcaption\t1\t1\000x\n" &&
		printf "package\tassemble\tpackage\t0.5\t1\n" &&
		printf "package\tnormalise\tpackage\t4\t1\n" &&
		printf "fal\t$MA\tangle\t3"
	} >r/.loramake/times &&
	lm plan --json r/recipe.yaml >p2.json 2>p2.err &&
	test "$(node p2.json angle/back timed)" = false &&
	test "$(node p2.json angle/back seconds)" = 22 &&
	python3 -c "import sys; c = float(sys.argv[1]); got = float(sys.argv[2]); sys.exit(abs(got - (1 + 4 / c)) > 1e-6)" \
		"$(getconf _NPROCESSORS_ONLN)" "$(node p2.json package seconds)"
'

test_expect_success 'a times file of another version is not read, and the next build starts it over' '
	{ echo "# loramake times v9" && sed 1d good; } >r/.loramake/times &&
	lm plan --json r/recipe.yaml >p3.json 2>p3.err &&
	test "$(node p3.json angle/back timed)" = false &&
	FAL_KEY=$FAL_TEST_KEY lm build r/recipe.yaml >b2.out 2>b2.err &&
	sed -n 1p r/.loramake/times >head &&
	echo "# loramake times v1" >want && diff -u want head &&
	awk -F"\t" "\$1 == \"fal\" && \$3 == \"angle\" {print \$5}" r/.loramake/times >count &&
	echo 1 >want && diff -u want count
'

test_done
