#!/bin/sh
# t2400: the no-op stamp can only save time, never hide work: whatever
# decides an output (the recipe, a source file, the lock, the options, the
# package output) moves the build off the shortcut.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a small recipe, built once' '
	mkdir r && cp "$SRC/recipes/jinx/keystones/hero.png" r/hero.png &&
	cat >r/recipe.yaml <<-EOF &&
	loramake: 1
	name: tiny
	trigger: TINYCHAR
	engines: { gen: { type: preview } }
	hero: { file: hero.png }
	angle:
	  engine: gen
	  items: { front: { caption: "seen from the front" }, back: { caption: "seen from behind" } }
	package: { size: 128 }
	EOF
	lm r/recipe.yaml >out 2>err &&
	test -f r/.loramake/stamp-recipe.yaml
'
test_expect_success 'a no-op build says so and names the dataset' '
	lm r/recipe.yaml >out 2>err &&
	grep "nothing to do: all 5 nodes are up to date" out &&
	grep "dataset: r/dist/tiny.zip" out
'
test_expect_success 'the no-op is decided by the stamp, without compiling' '
	lm -v r/recipe.yaml >out 2>err &&
	grep "stamp-recipe.yaml holds: nothing compiled" err &&
	grep "nothing to do" out
'
test_expect_success 'new bytes in a source file rebuild what it feeds' '
	python3 -c "import sys; d=open(\"r/hero.png\",\"rb\").read(); open(\"r/hero.png\",\"wb\").write(d+b\"\\0\")" &&
	lm r/recipe.yaml >out 2>err &&
	grep "^3 nodes built" out
'
test_expect_success 'a deleted package is written again' '
	rm r/dist/tiny.zip &&
	lm r/recipe.yaml >out 2>err &&
	grep "nothing to do" out && unzip -tq r/dist/tiny.zip
'
test_expect_success 'an edited package is put back' '
	echo junk >r/dist/tiny.zip &&
	lm r/recipe.yaml >out 2>err &&
	unzip -tq r/dist/tiny.zip
'
test_expect_success 'other options miss the stamp' '
	lm -v r/recipe.yaml >out 2>err &&
	grep "holds: nothing compiled" err &&
	lm -v --engine preview --pick first r/recipe.yaml >out 2>err &&
	! grep "holds: nothing compiled" err &&
	grep "nothing to do" out &&
	lm plan r/recipe.yaml >plan.out
'
test_expect_success 'a recipe edit misses the stamp' '
	sed -i "s/seen from behind/seen from the back/" r/recipe.yaml &&
	lm r/recipe.yaml >out 2>err &&
	grep "^2 nodes built" out
'
test_expect_success 'a pick in the lock misses the stamp' '
	lm pick r/recipe.yaml angle/front &&
	sed -i "s/size: 128 }/size: 128, select: picked }/" r/recipe.yaml &&
	lm r/recipe.yaml >out 2>err &&
	unzip -l r/dist/tiny.zip | grep -c "\.png" | grep -qx 1 &&
	lm pick --drop r/recipe.yaml angle/front &&
	! grep "angle/front" r/recipe.lock | grep "^pick" &&
	lm pick r/recipe.yaml angle/back &&
	lm r/recipe.yaml >out 2>err &&
	grep "^1 node built" out
'
test_expect_success 'a garbled stamp is ignored, then written anew' '
	echo nonsense >r/.loramake/stamp-recipe.yaml &&
	lm -v r/recipe.yaml >out 2>err && grep "nothing to do" out &&
	! grep "holds" err &&
	lm -v r/recipe.yaml >out 2>err && grep "holds: nothing compiled" err
'
test_expect_success 'a path with spaces in the stamp is read back' '
	mkdir "r/my photos" && cp r/hero.png "r/my photos/hero.png" &&
	sed -i "s|file: hero.png|file: my photos/hero.png|" r/recipe.yaml &&
	lm r/recipe.yaml >out 2>err &&
	lm -v r/recipe.yaml >out 2>err && grep "holds: nothing compiled" err &&
	touch "r/my photos/hero.png" &&
	lm -v r/recipe.yaml >out 2>err && ! grep "holds" err
'
test_expect_success 'a rerun counts the nodes the first build made: 37 built, then all 37 up to date' '
	copy_recipe quickstart &&
	lm quickstart/recipe.yaml >first 2>err &&
	grep "^37 nodes built in" first &&
	lm quickstart/recipe.yaml >again 2>err &&
	grep "^nothing to do: all 37 nodes are up to date$" again &&
	lm -v quickstart/recipe.yaml >stamped 2>err &&
	grep "stamp-recipe.yaml holds" err &&
	grep "^nothing to do: all 37 nodes are up to date$" stamped
'
test_done
