#!/bin/sh
# t3010: rate limits in the remote core (runtime/remote.c) against the
# fake fal server's submit_rate: a storm of 429s (16 requests at once, the
# fake takes a few submits a second, Retry-After: 1) no longer fails
# nodes. A 429 is not a failed try; the engine's window is cut (fewer
# submits at once) and grows again as submits are accepted; retries are
# spread by jitter. No node is submitted twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 100 --submit-rate 10 --retry-after 0 || exit 1
export FAL_KEY=$FAL_TEST_KEY

test_expect_success 'under a 429 storm every node is built, none submitted twice' '
	copy_recipe jinx && use_fake jinx/recipe.yaml 16 &&
	lm jinx/recipe.yaml >out 2>err &&
	grep "^90 nodes built in .*, 0 failed$" out &&
	test "$(fake_stat "d[\"faults\"][\"rate_429\"]")" -gt 0 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 61 &&
	test "$(fake_stat "max(d[\"submits_by_key\"].values())")" = 1
'
test_expect_success 'no output or file shows the key' '
	no_secret "$FAL_KEY" out err jinx "$TRASH/fake.log"
'
test_done
