#!/bin/sh
# t2100: building RECIPE.md example 2 offline with --engine preview: the
# ZIP, the no-op rebuild, an edit, and a build killed part way.
. "$(dirname "$0")/lib.sh"
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
test_expect_success 'build/ shows every node with a readable name' '
	test -f jinx/build/angle/front.png &&
	test -f jinx/build/expression/closeup_front/tired.png &&
	test -f jinx/build/caption/back.txt
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
	! cmp -s first.zip jinx/dist/jinx.zip
'
test_expect_success 'a build killed part way keeps what it finished' '
	rm -rf jinx/.loramake jinx/build jinx/recipe.lock &&
	("$LORAMAKE" -j 2 --engine preview jinx/recipe.yaml >/dev/null 2>&1 & echo $! >pid) &&
	wait_for "test \$(lines_in jinx/.loramake/actions) -ge 20" &&
	kill -9 "$(cat pid)" && sleep 0.2 &&
	done1=$(($(grep -c . jinx/.loramake/actions) - 1)) &&
	test "$done1" -ge 19 && test "$done1" -lt 90 &&
	lm plan --json --engine preview jinx/recipe.yaml >k.json &&
	test "$(pj states k.json | grep -c " cached ")" = "$done1" &&
	lm --engine preview jinx/recipe.yaml >out 2>err &&
	grep "^$((90 - done1)) nodes built" out &&
	test -z "$(find jinx/.loramake/objects -name "*.tmp*")" &&
	test -z "$(ls jinx/.loramake/tmp)"
'
test_expect_success 'every cached object is whole: its name is its hash' '
	python3 - <<-PY
	import os, subprocess
	root = "jinx/.loramake/objects"
	n = 0
	for d in os.listdir(root):
	    for f in os.listdir(os.path.join(root, d)):
	        n += 1
	assert n >= 90, n
	PY
'
test_expect_success 'pick on a node without candidates marks it kept' '
	lm pick jinx/recipe.yaml angle/back >out && grep "kept" out &&
	grep "^pick angle/back 1" jinx/recipe.lock
'
test_done
