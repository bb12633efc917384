#!/bin/sh
# t3008: transfers that cannot succeed, or that crawl. A download over the
# size cap fails at its Content-Length, once, never retried; a download
# that trickles below the low-speed limit is cut and retried, so it holds
# its slot for seconds, not for the 300 s transfer timeout.
. "$(dirname "$0")/lib.sh"
Q="'"  # a quote, for the patterns inside test bodies
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 100 || exit 1
export FAL_KEY=$FAL_TEST_KEY


files() { fake_stat "d[\"requests_by_kind\"].get(\"file\", 0)"; }

test_expect_success 'a download over the size cap fails once, at its Content-Length, and is not retried' '
	fake_control "{\"reset\": true, \"big_files\": 100000000}" &&
	tiny b1 &&
	expect_exit 1 timeout 120 "$LORAMAKE" b1/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: ${Q}$MA${Q}: download failed: response larger than the limit (67108864 bytes)" err &&
	test "$(files)" = 2 &&
	fake_control "{\"big_files\": 0}"
'
test_expect_success 'a trickling download is cut by the low-speed limit and retried, not waited on for 300 s' '
	fake_control "{\"reset\": true, \"trickle_files\": 1}" &&
	tiny t1 &&
	LORAMAKE_TEST_LOW_SPEED_SECS=1 timeout 60 "$LORAMAKE" -v t1/recipe.yaml >out 2>err &&
	grep "GET .*/files/.*: Operation too slow" err &&
	test "$(files)" = 3 &&
	check_pngs t1/.loramake/objects
'
test_done
