#!/bin/sh
# t2520: loramake reroll gives a node a new seed (recorded in the lock):
# exactly it, what hangs below it and the package become stale, the next
# build runs only those, and --undo is free (docs/keys.md, "Rerolls").
. "$(dirname "$0")/lib.sh"
pj() { python3 "$SRC/tests/data/planjson.py" "$@"; }

test_expect_success 'setup: jinx built with the preview engine' '
	copy_recipe jinx &&
	lm --engine preview jinx/recipe.yaml >build1 2>&1 &&
	lm plan --json --engine preview jinx/recipe.yaml >before.json
'
test_expect_success 'a reroll makes exactly the node, its upscale and the package stale' '
	lm reroll jinx/recipe.yaml expression/front/tired >out &&
	grep "^rerolled expression/front/tired (reroll 1): 3 nodes to run again$" out &&
	grep "^reroll expression/front/tired 1$" jinx/recipe.lock &&
	lm plan --json --engine preview jinx/recipe.yaml >after.json &&
	pj changed before.json after.json >changed &&
	printf "expression/front/tired\npackage\nupscale/front/tired\n" >want &&
	diff want changed &&
	pj states after.json >states &&
	grep "^expression/front/tired stale rerolled$" states
'
test_expect_success 'the second build runs those 3 and keeps the old image' '
	old=$(grep "^node expression/front/tired " jinx/recipe.lock | sed "s/.* out=\([0-9a-f]*\).*/\1/") &&
	lm --engine preview jinx/recipe.yaml >build2 2>&1 &&
	grep "^3 nodes built" build2 &&
	test -f "jinx/.loramake/objects/$(echo "$old" | cut -c1-2)/$(echo "$old" | cut -c3-)" &&
	! grep -q "^node expression/front/tired .*out=$old" jinx/recipe.lock
'
test_expect_success 'reroll --undo runs nothing new' '
	lm reroll --undo jinx/recipe.yaml expression/front/tired >undo &&
	grep "^undid a reroll of expression/front/tired (now reroll 0)" undo &&
	! grep -q "^reroll " jinx/recipe.lock &&
	lm plan --json --engine preview jinx/recipe.yaml >undone.json &&
	pj changed before.json undone.json >changed && test ! -s changed &&
	lm --engine preview jinx/recipe.yaml >build3 2>&1 &&
	grep "^nothing to do" build3
'
test_expect_success 'a reroll of what no seed decides, or an undo of nothing, is refused' '
	expect_exit 2 lm reroll jinx/recipe.yaml caption/front/tired 2>err &&
	grep "not an image node" err &&
	expect_exit 2 lm reroll jinx/recipe.yaml hero 2>err &&
	expect_exit 2 lm reroll --undo jinx/recipe.yaml angle/front 2>err &&
	grep "never rerolled" err
'

test_done
