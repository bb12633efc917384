#!/bin/sh
# t3005: Ctrl-C during a fal build. SIGINT cancels (PUT cancel_url) every
# request still queued at fal, ends those nodes as "cancelled", keeps what
# finished, and exits 130. The next build finds the cancelled requests
# (the result says 499), submits them anew, and finishes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 60000 --queue-ms 60000 || exit 1
export FAL_KEY=$FAL_TEST_KEY


test_expect_success 'SIGINT cancels the queued requests and exits 130' '
	copy_recipe jinx && use_fake jinx/recipe.yaml 16 &&
	{ "$LORAMAKE" jinx/recipe.yaml >out 2>err & } &&
	pid=$! &&
	wait_for "test \$(pending) -ge 12 && test \$(fake_stat d[\\\"status_polls\\\"]) -ge 12" &&
	signal_build INT $pid &&
	rc=0 &&
	{ wait $pid || rc=$?; } &&
	test "$rc" = 130 &&
	grep -q "interrupted" err &&
	test "$(fake_stat "d[\"cancels_effective\"]")" = 12 &&
	test "$(fake_stat "d[\"inflight\"]")" = 0 &&
	test "$(grep -c "^FAILED angle/.*: cancelled$" err)" = 12 &&
	! test -e jinx/build/angle
'
test_expect_success 'the next build submits the cancelled requests anew and finishes' '
	fake_control "{\"job_ms\": 100, \"queue_ms\": 0}" &&
	lm jinx/recipe.yaml >out2 2>err2 &&
	grep "dataset: jinx/dist/jinx.zip" out2 &&
	test "$(fake_stat "d[\"submits_total\"]")" = $((12 + 61)) &&
	check_pngs jinx/.loramake/objects
'
test_expect_success 'no output or file shows the key' '
	no_secret "$FAL_KEY" out err out2 err2 jinx "$TRASH/fake.log"
'
test_done
