#!/bin/sh
# t3303: a Gemini call is synchronous: its answer is the image, and there
# is no request to poll again. Each call is journalled before it is sent,
# so a build killed with SIGKILL mid-call tells the rebuild which calls
# it cut off: those, and only those, are called again (said for each: the
# service may have billed them; docs/engines.md), with what was never
# sent. Ctrl-C lets the calls in flight end and keeps their images (paid
# for); the next build calls only what was never sent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gemini-lib.sh"
# calls are held (60 s) until a test releases them
start_gemini --job-ms 60000 || exit 1
export GEMINI_API_KEY=$GEMINI_TEST_KEY

test_expect_success 'SIGKILL with three calls in flight: the rebuild calls those again, and the three never sent' '
	gem_recipe g && sed -i "s|concurrency: 8|concurrency: 3|" g/recipe.yaml &&
	{ "$LORAMAKE" g/recipe.yaml >out 2>err & } &&
	pid=$! &&
	wait_for "test \$(gem_inflight) -ge 3" &&
	test "$(gem_pending g)" = 3 &&
	signal_build 9 $pid &&
	{ wait $pid || true; } &&
	fake_stat "sorted(d[\"calls_by_key\"])" >sent.json &&
	fake_control "{\"job_ms\": 100, \"release_ms\": 0}" &&
	lm g/recipe.yaml >out2 2>err2 &&
	grep -E "^[0-9]+ nodes built in .*, 0 failed$" out2 &&
	test "$(grep -c "^loramake: gemini: angle/[a-z]*: candidate 1.s call was in flight when an earlier build was killed: its answer is lost (gemini may have billed it). calling again$" err2)" = 3 &&
	test "$(fake_stat "d[\"calls_total\"]")" = 9 &&
	test "$(fake_stat "sorted(k for k, v in d[\"calls_by_key\"].items() if v == 2)")" = "$(cat sent.json)" &&
	test "$(gem_pending g)" = 0 &&
	check_pngs g/.loramake/objects
'
test_expect_success 'SIGINT lets the calls in flight end and keeps their images; the next build calls the rest' '
	gem_recipe h && sed -i "s|concurrency: 8|concurrency: 3|" h/recipe.yaml &&
	fake_control "{\"reset\": true, \"job_ms\": 60000}" &&
	{ "$LORAMAKE" h/recipe.yaml >out3 2>err3 & } &&
	pid=$! &&
	wait_for "test \$(gem_inflight) -ge 3" &&
	signal_build INT $pid &&
	wait_for "grep -q \"interrupted: finishing\" err3" &&
	fake_control "{\"release_ms\": 0}" &&
	rc=0 &&
	{ wait $pid || rc=$?; } &&
	test "$rc" = 130 &&
	test "$(grep -c "^node angle/" h/recipe.lock)" = 3 &&
	test "$(gem_pending h)" = 0 &&
	fake_control "{\"job_ms\": 100}" &&
	lm h/recipe.yaml >out4 2>err4 &&
	grep -E "^[0-9]+ nodes built in .*, 0 failed$" out4 &&
	! grep "earlier build was killed" err4 &&
	test "$(fake_stat "d[\"calls_total\"]")" = 6 &&
	test "$(fake_stat "max(d[\"calls_by_key\"].values())")" = 1
'
test_expect_success 'no output or file shows the key' '
	no_secret "$GEMINI_API_KEY" out err out2 err2 out3 err3 out4 err4 g h "$TRASH/fake.log"
'
test_done
