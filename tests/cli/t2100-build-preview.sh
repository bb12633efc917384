#!/bin/sh
# t2100: building RECIPE.md example 2 offline with --engine preview: the
# ZIP, the no-op rebuild, an edit, and a build killed part way (its
# upscales held in flight by the fake fal server, so it cannot end first).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 600000 || exit 1
export FAL_KEY=$FAL_TEST_KEY
pj() { python3 "$SRC/tests/data/planjson.py" "$@"; }

test_expect_success 'a preview build makes a ZIP of 28 pairs' '
	copy_recipe jinx &&
	lm -j 4 --engine preview jinx/recipe.yaml >out 2>err &&
	grep "dataset: jinx/dist/jinx.zip" out &&
	unzip -tq jinx/dist/jinx.zip &&
	python3 - <<-PY
	import zipfile
	z = zipfile.ZipFile("jinx/dist/jinx.zip")
	assert z.testzip() is None
	names = z.namelist()
	pngs = [n for n in names if n.endswith(".png")]
	txts = [n for n in names if n.endswith(".txt")]
	assert len(pngs) == 28 and len(txts) == 28, names
	for t in txts:
	    cap = z.read(t).decode("utf-8")
	    assert cap.startswith("JINXCHAR"), cap
	    assert "\n" not in cap, cap
	    assert t[:-4] + ".png" in pngs
	PY
'
test_expect_success 'build/ shows every node by its id: an image, or a caption text' '
	lm plan --json --engine preview jinx/recipe.yaml >p0.json &&
	python3 - <<-PY
	import json, os
	jobs = json.load(open("p0.json"))["jobs"]
	made = [j for j in jobs if j["state"] != "input" and j["kind"] != "package"]
	assert len(made) == 89, len(made)
	for j in made:
	    ext = ".txt" if j["kind"] == "caption" else ".png"
	    p = os.path.join("jinx/build", j["id"] + ext)
	    assert os.path.isfile(p) and os.path.getsize(p) > 0, p
	files = sum(len(f) for _, _, f in os.walk("jinx/build"))
	assert files == 89, files
	PY
'
test_expect_success 'the lock is sorted and names every built node' '
	test -f jinx/recipe.lock &&
	grep "^node " jinx/recipe.lock | sort -c &&
	test "$(grep -c "^node " jinx/recipe.lock)" = 90
'
test_expect_success 'a second build runs nothing and keeps the ZIP byte for byte' '
	cp jinx/dist/jinx.zip first.zip &&
	lm --engine preview jinx/recipe.yaml >out 2>err &&
	grep "nothing to do" out &&
	cmp first.zip jinx/dist/jinx.zip
'
test_expect_success 'plan after the build says cached' '
	lm plan --json --engine preview jinx/recipe.yaml >p.json &&
	test "$(pj states p.json | grep -c " cached ")" = 90
'
test_expect_success 'editing one expression: plan lists exactly its nodes as stale' '
	sed -i "s/relaxed jaw\"/loose jaw\"/" jinx/recipe.yaml &&
	lm plan --json --engine preview jinx/recipe.yaml >p2.json &&
	pj states p2.json | grep " stale " | cut -d" " -f1 | sort >stale &&
	for a in front closeup_front closeup_three_quarter three_quarter_left three_quarter_right; do
		printf "%s\n" "caption/$a/tired" "expression/$a/tired" "upscale/$a/tired" || return 1
	done >want && echo package >>want && sort want -o want &&
	diff want stale &&
	pj states p2.json | grep "^expression/front/tired stale prompt changed" &&
	pj states p2.json | grep "^upscale/front/tired stale input changed"
'
test_expect_success 'explain names the changed field' '
	lm explain --engine preview jinx/recipe.yaml expression/front/tired >ex &&
	grep "stale, prompt changed" ex
'
test_expect_success 'the build runs exactly those 16 nodes' '
	lm --engine preview jinx/recipe.yaml >out 2>err &&
	grep "^16 nodes built" out &&
	sed -n "s/^\[[0-9]*\/16\] \([^ ]*\) .*/\1/p" err | sort >built &&
	diff stale built &&
	! cmp -s first.zip jinx/dist/jinx.zip
'
test_expect_success 'a build killed part way keeps what it finished' '
	mkdir k && cp -r jinx k/ &&
	rm -rf k/jinx/.loramake k/jinx/build k/jinx/recipe.lock k/jinx/dist &&
	use_fake k/jinx/recipe.yaml &&
	sed -i "s/^  fal: {.*}/&\n  gen: { type: preview }/; s/^  engine: fal$/  engine: gen/" k/jinx/recipe.yaml &&
	grep "^upscale: { engine: fal" k/jinx/recipe.yaml &&
	{ "$LORAMAKE" -j 2 k/jinx/recipe.yaml >k/out 2>k/err & } &&
	pid=$! &&
	wait_for "test \$(lines_in k/jinx/.loramake/actions) -ge 20 && test \$(fake_stat d[\\\"inflight\\\"]) -ge 1" &&
	signal_build 9 $pid &&
	{ wait $pid || true; } &&
	done1=$(($(grep -c . k/jinx/.loramake/actions) - 1)) &&
	test "$done1" -ge 19 && test "$done1" -lt 90 &&
	lm plan --json k/jinx/recipe.yaml >k.json &&
	test "$(pj states k.json | grep -c " cached ")" = "$done1" &&
	fake_control "{\"job_ms\": 50, \"release_ms\": 0}" &&
	lm k/jinx/recipe.yaml >out 2>err &&
	grep "^$((90 - done1)) nodes built" out &&
	test -z "$(find k/jinx/.loramake/objects -name "*.tmp*")" &&
	test -z "$(ls k/jinx/.loramake/tmp)"
'
test_expect_success 'every cached object is whole: its name is the xxh3-128 of its bytes' '
	find jinx/.loramake/objects k/jinx/.loramake/objects -type f >objects &&
	test "$(wc -l <objects)" -ge 180 &&
	xargs xxhsum -H2 <objects >sums &&
	test "$(wc -l <sums)" = "$(wc -l <objects)" &&
	awk "{ n = split(\$2, p, \"/\"); if (\$1 != p[n - 1] p[n]) { print \"misnamed:\", \$0; bad = 1 } } END { exit bad }" sums
'
test_expect_success 'pick on a node without candidates marks it kept' '
	lm pick jinx/recipe.yaml angle/back >out && grep "kept" out &&
	grep "^pick angle/back 1" jinx/recipe.lock
'
test_expect_success 'plan times a preview build by what preview costs, one job a core' '
	rm -rf est && mkdir est && cp -r "$SRC/recipes/jinx" est/ &&
	lm plan --json --engine preview est/jinx/recipe.yaml >est.json &&
	python3 - <<-PY
	import json, os
	t = json.load(open("est.json"))["totals"]
	cores = os.cpu_count()
	# the floor the CPU sets, from docs/bench.md: 61 placeholders at 0.11 s
	# CPU each, one job a core, then the package at 0.08 s an image
	floor = 61 * 0.11 / cores + 28 * 0.08
	assert floor <= t["seconds"] <= 4 * floor, (t["seconds"], floor)
	PY
'
test_done
