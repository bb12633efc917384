#!/bin/sh
# t2300: a failed node fails only itself and what hangs below it (-k);
# --fail-fast; --max-cost; Ctrl-C; clean keeps the cache; gc. Builds that
# a test interrupts or waits on have their expressions held in flight by
# the fake fal server, so none can end before the test acts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 600000 || exit 1
export FAL_KEY=$FAL_TEST_KEY

# hold_expressions: quickstart's expressions on the fake (held until
# released with fake_control), the rest on the preview engine.
hold_expressions() {
	grep -q "^  slow:" quickstart/recipe.yaml ||
		sed -i "s|^  gen: {.*}|&\n  slow: { type: fal, url: \"$FAKE_URL\", concurrency: 4 }|" quickstart/recipe.yaml &&
	sed -i "/^expression:/,/^[a-z]/ s/^  engine: gen$/  engine: slow/" quickstart/recipe.yaml &&
	grep -q "^  engine: slow$" quickstart/recipe.yaml
}

# held_build OUT ERR: start a build in the background (its PID in $pid) and
# wait until it has finished a node and holds a request in flight.
held_build() {
	rm -rf quickstart/.loramake quickstart/build quickstart/recipe.lock &&
	fake_control "{\"job_ms\": 600000}" &&
	{ "$LORAMAKE" -j 1 quickstart/recipe.yaml >"$1" 2>"$2" & } &&
	pid=$! &&
	wait_for "test \$(lines_in quickstart/.loramake/actions) -ge 2 && test \$(fake_stat d[\\\"inflight\\\"]) -ge 1"
}

test_expect_success 'setup: a recipe where one branch cannot be made' '
	mkdir r && cp "$SRC/recipes/jinx/keystones/hero.png" r/hero.png &&
	cat >r/recipe.yaml <<-EOF
	loramake: 1
	name: mix
	trigger: MIXCHAR
	engines: { gen: { type: preview } }
	hero: { file: hero.png }
	anchor:
	  engine: local          # local edits images; it cannot make one
	  items: { broken: from nothing }
	angle:
	  engine: gen
	  from: hero
	  items:
	    front: { caption: "seen from the front" }
	    back: { caption: "seen from behind" }
	    twist: { from: anchor/broken, caption: "twisted" }
	package: { size: 128 }
	EOF
'
test_expect_success 'a failed node fails the build (exit 1) but not the others' '
	expect_exit 1 lm r/recipe.yaml >out 2>err &&
	grep "FAILED anchor/broken: the local engine edits an image" err &&
	grep "failed: anchor/broken" err &&
	test -f r/build/angle/front.png && test -f r/build/angle/back.png &&
	test ! -e r/build/angle/twist.png
'
test_expect_success 'the next build retries only what failed' '
	expect_exit 1 lm r/recipe.yaml >out 2>err &&
	! grep "angle/front" err
'
test_expect_success '--fail-fast starts nothing after the first failure' '
	rm -rf r/.loramake r/build &&
	expect_exit 1 lm -j 1 --fail-fast r/recipe.yaml >out 2>err &&
	grep "FAILED anchor/broken" err &&
	test ! -e r/build/angle/back.png
'
test_expect_success '--max-cost refuses a plan that costs more' '
	mkdir m && cp "$SRC/recipes/jinx/keystones/hero.png" m/hero.png &&
	cat >m/recipe.yaml <<-EOF &&
	loramake: 1
	engines: { fal: { type: fal, url: "http://127.0.0.1:9" } }
	hero: { file: hero.png }
	angle: { model: fal-ai/nano-banana-pro/edit, items: { a: x, b: y } }
	EOF
	expect_exit 1 lm --max-cost 0.10 m/recipe.yaml 2>err &&
	grep "costs \$0.13, more than --max-cost 0.10" err &&
	test ! -e m/.loramake/actions
'
test_expect_success 'clean removes build/ and the package but keeps the cache' '
	copy_recipe quickstart &&
	lm quickstart/recipe.yaml >out 2>err &&
	test -f quickstart/dist/quickstart.zip &&
	lm clean quickstart/recipe.yaml >out &&
	test ! -e quickstart/build && test ! -e quickstart/dist/quickstart.zip &&
	test -s quickstart/.loramake/actions &&
	lm quickstart/recipe.yaml >out 2>err && grep "nothing to do" out &&
	test -f quickstart/dist/quickstart.zip
'
test_expect_success 'gc drops only what no node reaches' '
	n0=$(find quickstart/.loramake/objects -type f | wc -l) &&
	sed -i "s/smiling — soft smile/smiling — broad smile/" quickstart/recipe.yaml &&
	lm quickstart/recipe.yaml >out 2>err &&
	n1=$(find quickstart/.loramake/objects -type f | wc -l) &&
	test "$n1" -gt "$n0" &&
	lm gc quickstart/recipe.yaml >out && grep "dropped" out &&
	n2=$(find quickstart/.loramake/objects -type f | wc -l) &&
	test "$n2" -lt "$n1" &&
	lm quickstart/recipe.yaml >out 2>err && grep "nothing to do" out &&
	unzip -tq quickstart/dist/quickstart.zip
'
test_expect_success 'gc keeps what a package lists: a deleted ZIP comes back' '
	rm quickstart/dist/quickstart.zip &&
	lm quickstart/recipe.yaml >out 2>err &&
	grep "nothing to do" out && unzip -tq quickstart/dist/quickstart.zip
'
test_expect_success 'gc keeps what another recipe in the folder made' '
	sed "s/^name: quickstart/name: sibling/; s/QSCHAR/SIBCHAR/; s/quickstart.zip/sibling.zip/" \
		quickstart/recipe.yaml >quickstart/sibling.yaml &&
	lm quickstart/sibling.yaml >out 2>err &&
	lm gc quickstart/recipe.yaml >out &&
	rm quickstart/dist/sibling.zip &&
	lm -v quickstart/sibling.yaml >out 2>err &&
	grep "nothing to do" out && unzip -tq quickstart/dist/sibling.zip
'
test_expect_success 'a node gone from the recipe leaves the lock' '
	grep -q "^node angle/low_angle " quickstart/recipe.lock &&
	sed -i "/low_angle:/d" quickstart/recipe.yaml &&
	lm quickstart/recipe.yaml >out 2>err &&
	! grep -q "^node angle/low_angle " quickstart/recipe.lock &&
	! grep -q "^node upscale/low_angle " quickstart/recipe.lock
'
test_expect_success 'Ctrl-C finishes what runs, records it, exits 130' '
	hold_expressions &&
	held_build out err &&
	signal_build INT $pid &&
	rc=0 &&
	{ wait $pid || rc=$?; } &&
	test "$rc" = 130 &&
	grep "interrupted" err &&
	done1=$(($(grep -c . quickstart/.loramake/actions) - 1)) &&
	test "$done1" -ge 1 && test "$done1" -lt 34 &&
	test "$(grep -c "^node " quickstart/recipe.lock)" = "$done1" &&
	echo "$done1" >done1
'
test_expect_success 'a build after Ctrl-C runs only the rest' '
	fake_control "{\"job_ms\": 50}" &&
	lm quickstart/recipe.yaml >out 2>err &&
	grep "^$((34 - $(cat done1))) nodes built" out
'
test_expect_success 'a second build of the same recipe waits for the first' '
	held_build out1 err1 &&
	{ "$LORAMAKE" quickstart/recipe.yaml >out2 2>err2 & } &&
	pid2=$! &&
	wait_for "grep -q \"another build of this recipe is running\" err2" &&
	test ! -s out2 &&
	fake_control "{\"job_ms\": 50, \"release_ms\": 0}" &&
	wait $pid &&
	wait $pid2 &&
	grep "nothing to do" out2
'
# script(1) needs a pseudo-terminal (no /dev/pts in some containers)
if script -qfec true /dev/null >/dev/null 2>&1; then
test_expect_success 'on a terminal: one status line, rewritten in place' '
	rm -rf quickstart/.loramake quickstart/build quickstart/recipe.lock &&
	script -qfec "\"$LORAMAKE\" -j 1 quickstart/recipe.yaml" /dev/null >tty.out &&
	grep -q "$(printf "\r\033")\[K\[1/34\] " tty.out &&
	grep -q "ETA" tty.out &&
	! grep -q "^\[2/34\]" tty.out
'
else
	test_skip 'on a terminal: one status line, rewritten in place' \
		'script(1) cannot open a pseudo-terminal here'
fi
test_done
