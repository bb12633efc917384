#!/bin/sh
# t2200: candidates and picks: a build stops before what waits on a pick
# (exit 3) and says how to make it; pick records it in the lock; --pick
# first builds unattended; select: picked packages only what was kept.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: two anchors with candidates, one edit below' '
	mkdir r && cat >r/recipe.yaml <<-EOF
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
	package: { format: fal-zip, select: picked, size: 256 }
	EOF
'
test_expect_success 'the build stops before nodes waiting on a pick, exit 3' '
	expect_exit 3 lm r/recipe.yaml >out 2>err &&
	grep "loramake pick r/recipe.yaml anchor/front N" err &&
	grep "loramake pick r/recipe.yaml anchor/back N" err &&
	test -f r/build/anchor/front/candidate-03.png &&
	test ! -e r/build/angle/wave.png
'
test_expect_success 'a rerun before the picks counts the waiting nodes apart, exit 3' '
	expect_exit 3 lm r/recipe.yaml >out 2>err &&
	grep -x "nothing to do until the picks: 4 of 6 nodes are up to date" out &&
	grep "^2 nodes wait for a pick" err
'
test_expect_success 'pick with no node lists what waits for a pick' '
	lm pick r/recipe.yaml >list &&
	grep "^anchor/front  *not picked: 3 candidates in build/anchor/front/" list &&
	grep -c "not picked" list | grep -qx 2
'
test_expect_success 'plan shows the waiting nodes and why' '
	lm plan r/recipe.yaml >plan &&
	grep "^angle/wave .*waiting *needs a pick of anchor/front" plan
'
test_expect_success 'pick checks its candidate number' '
	expect_exit 2 lm pick r/recipe.yaml anchor/front 4 2>err &&
	grep "from 1 to 3" err &&
	expect_exit 2 lm pick r/recipe.yaml anchor/front 2>err &&
	grep "has 3 candidates; say which" err &&
	! grep -q "^pick anchor/front" r/recipe.lock 2>/dev/null
'
test_expect_success 'pick records the choice in the lock' '
	lm pick r/recipe.yaml anchor/front 2 &&
	grep "^pick anchor/front 2$" r/recipe.lock
'
test_expect_success 'after the picks the edit is built from the picked candidate' '
	lm pick r/recipe.yaml anchor/back 1 &&
	lm r/recipe.yaml >out 2>err &&
	test -f r/build/angle/wave.png &&
	lm explain r/recipe.yaml angle/wave >ex &&
	grep "input anchor/front: cached" ex
'
test_expect_success 'select: picked packages only kept images' '
	unzip -l r/dist/fox.zip >list &&
	grep -c "\.png" list | grep -qx 1 &&
	lm pick r/recipe.yaml angle/wave &&
	lm r/recipe.yaml >out 2>err &&
	unzip -l r/dist/fox.zip | grep -c "\.png" | grep -qx 2
'
test_expect_success 'changing a pick rebuilds what hangs below it' '
	lm pick r/recipe.yaml anchor/front 3 &&
	lm plan r/recipe.yaml >plan.out &&
	grep "^angle/wave .* stale *input changed" plan.out
'
test_expect_success '--pick first builds unattended' '
	rm -f r/recipe.lock &&
	lm --pick first r/recipe.yaml >out 2>err &&
	unzip -l r/dist/fox.zip | grep -c "\.png" | grep -qx 2
'
test_done
