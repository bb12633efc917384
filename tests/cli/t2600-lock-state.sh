#!/bin/sh
# t2600: recipe.lock as git and accidents leave it: a merge conflict is
# merged (node lines of both sides kept) or, where picks disagree, an
# error naming both lines; a lock of a newer format is read but never
# rewritten; a NUL byte spoils its line only.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a built recipe with two picks' '
	mkdir r && cat >r/recipe.yaml <<-EOF &&
	loramake: 1
	name: fox
	trigger: FOXCHAR
	engines: { gen: { type: preview } }
	character: { prompt: a red fox in a blue coat }
	anchor:
	  engine: gen
	  candidates: 3
	  items:
	    front: standing, front view
	    back: standing, back view
	angle:
	  engine: gen
	  items:
	    wave: { from: anchor/front, prompt: waving, strength: 0.5 }
	EOF
	expect_exit 3 lm r/recipe.yaml >out 2>err &&
	lm pick r/recipe.yaml anchor/front 2 &&
	lm pick r/recipe.yaml anchor/back 1 &&
	lm r/recipe.yaml >out 2>err &&
	cp r/recipe.lock built.lock &&
	grep -c "^node " built.lock | grep -qx 3
'
test_expect_success 'merged sides that pick differently: an error naming both lines, nothing written' '
	{ sed -n 1p built.lock &&
	  echo "<<<<<<< HEAD" && echo "pick anchor/front 2" &&
	  echo "=======" && echo "pick anchor/front 3" && echo ">>>>>>> theirs" &&
	  sed "1d;/^pick anchor\/front /d" built.lock; } >r/recipe.lock &&
	cp r/recipe.lock conflicted.lock &&
	expect_exit 2 lm plan r/recipe.yaml >out 2>err &&
	grep "^r/recipe.lock:3: error: the two sides of a git merge pick differently for .anchor/front.: 2 here, 3 at line 5$" err &&
	grep "delete the pick line you do not want" err &&
	expect_exit 2 lm r/recipe.yaml >out 2>err &&
	grep "^r/recipe.lock:3: error:" err &&
	cmp r/recipe.lock conflicted.lock
'
test_expect_success 'deleting the unwanted pick line resolves it; the build writes the merged lock' '
	sed "/^pick anchor\/front 3$/d" conflicted.lock >r/recipe.lock &&
	lm r/recipe.yaml >out 2>err &&
	grep "merged the two sides of a git conflict" err &&
	grep "nothing to do" out &&
	cmp r/recipe.lock built.lock
'
test_expect_success 'node lines split between the sides of a conflict are all kept: nothing reruns' '
	{ sed -n "1p;/^pick /p" built.lock && echo "<<<<<<< HEAD" &&
	  grep "^node " built.lock | awk "NR % 2" && echo "=======" &&
	  grep "^node " built.lock | awk "NR % 2 == 0" && echo ">>>>>>> theirs"; } >r/recipe.lock &&
	rm r/.loramake/actions &&
	lm plan r/recipe.yaml >plan 2>err &&
	grep "^0 jobs to run" plan &&
	lm r/recipe.yaml >out 2>err &&
	grep "nothing to do" out &&
	cmp r/recipe.lock built.lock
'
test_expect_success 'a lock of a newer format is read, and neither build nor pick rewrites it' '
	sed "1s/lock v2/lock v4/" built.lock >r/recipe.lock &&
	cp r/recipe.lock newer.lock &&
	lm plan r/recipe.yaml >plan 2>err &&
	grep "written by a newer loramake (lock v4; this one knows v3)" err &&
	sed -i "s/prompt: waving/prompt: waving hello/" r/recipe.yaml &&
	expect_exit 2 lm r/recipe.yaml >out 2>err &&
	grep "not rewriting it" err &&
	expect_exit 1 lm pick r/recipe.yaml anchor/front 3 2>err &&
	grep "not rewriting it" err &&
	cmp r/recipe.lock newer.lock &&
	sed -i "s/prompt: waving hello/prompt: waving/" r/recipe.yaml
'
test_expect_success 'a NUL byte spoils its own line only, with a warning naming it' '
	python3 -c "import sys; t = open(sys.argv[1], \"rb\").read(); sys.stdout.buffer.write(t.replace(b\"pick anchor/back 1\", b\"pick anchor/back\\0 1\"))" built.lock >r/recipe.lock &&
	lm plan r/recipe.yaml >plan 2>err &&
	grep "r/recipe.lock:2: ignoring a line this loramake cannot read: it holds a NUL byte" err &&
	grep "^angle/wave .* cached" plan
'
test_expect_success 'a lock cut short at a field boundary is warned about' '
	sed "\$s/ facets=.*//" built.lock >r/recipe.lock &&
	lm plan r/recipe.yaml >plan 2>err &&
	grep "r/recipe.lock:6: ignoring a line this loramake cannot read: cut short" err
'
test_expect_success 'merge-lock as git'"'"'s merge driver: changes to neighbouring picks merge cleanly' '
	mkdir g && cd g && git init -q && git config user.email t@example.com &&
	git config user.name t &&
	git config merge.loramake.driver "$LORAMAKE merge-lock %O %A %B" &&
	echo "*.lock merge=loramake" >.gitattributes &&
	grep -v "^pick anchor/back " ../built.lock >recipe.lock &&
	git add . && git commit -qm base && git branch other &&
	cp ../built.lock recipe.lock && git commit -qam "pick back" &&
	git checkout -q other &&
	sed "s/^pick anchor\/front 2$/pick anchor\/front 3/" ../built.lock |
		grep -v "^pick anchor/back " >recipe.lock &&
	git commit -qam "front: 3" && git checkout -q - &&
	git merge -q -m merge other &&
	sed -n 2,3p recipe.lock >picks &&
	printf "pick anchor/back 1\npick anchor/front 3\n" >want &&
	cmp picks want &&
	test "$(grep -c "^node " recipe.lock)" = 3
'
test_expect_success 'merge-lock: picks both sides changed differently stay in conflict, named by loramake' '
	cd g && git checkout -q -b a && sed -i "s/^pick anchor\/front 3$/pick anchor\/front 1/" recipe.lock &&
	git commit -qam "front: 1" && git checkout -q -b b HEAD~1 &&
	sed -i "s/^pick anchor\/front 3$/pick anchor\/front 2/" recipe.lock &&
	git commit -qam "front: 2" &&
	expect_exit 1 git merge -q -m merge a 2>err &&
	grep "picks differ for .anchor/front.: 2 on our side, 1 on theirs" err &&
	cp ../r/recipe.yaml . &&
	expect_exit 2 "$LORAMAKE" plan recipe.yaml 2>err &&
	grep "^recipe.lock:4: error: the two sides of a git merge pick differently for .anchor/front.: 2 here, 1 at line 6$" err
'
test_done
