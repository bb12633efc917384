#!/bin/sh
# t3103: never pay twice on Replicate. A build killed with SIGKILL while
# predictions run, run again, polls the predictions it recorded (urls.get)
# instead of creating them again, and creates only what was never
# submitted; Ctrl-C cancels what is running through urls.cancel, and the
# next build creates those anew.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/replicate-lib.sh"
# predictions are held (60 s) until a test releases them
start_replicate --job-ms 60000 || exit 1
export REPLICATE_API_TOKEN=$REPLICATE_TEST_KEY

test_expect_success 'SIGKILL with predictions running, then a rebuild: nothing created twice' '
	copy_recipe maya && use_replicate maya/recipe.yaml &&
	{ "$LORAMAKE" maya/recipe.yaml >out 2>err & } &&
	pid=$! &&
	wait_for "test \$(maya_pending) -ge 4" &&
	signal_build 9 $pid &&
	{ wait $pid || true; } &&
	sub=$(fake_stat "d[\"submits_total\"]") && rec=$(maya_pending) &&
	echo "killed after $sub creates, $rec recorded" &&
	test "$sub" = 4 &&
	fake_control "{\"job_ms\": 100, \"release_ms\": 100}" &&
	lm maya/recipe.yaml >out2 2>err2 &&
	grep -E "^[0-9]+ nodes built in .*, 0 failed$" out2 &&
	test "$(grep -c "^loramake: replicate: anchor/.*: 1 of 1 image came from requests an earlier build submitted$" err2)" = 4 &&
	lost=$((sub - rec)) &&
	test "$(fake_stat "d[\"submits_total\"]")" = $((6 + lost)) &&
	test "$(fake_stat "max(d[\"submits_by_key\"].values())")" -le 2 &&
	check_pngs maya/.loramake/objects
'
test_expect_success 'SIGINT cancels the running predictions; the next build creates them anew' '
	rm -rf maya && copy_recipe maya && use_replicate maya/recipe.yaml &&
	fake_control "{\"reset\": true, \"job_ms\": 60000}" &&
	{ "$LORAMAKE" maya/recipe.yaml >out3 2>err3 & } &&
	pid=$! &&
	wait_for "test \$(maya_pending) -ge 4" &&
	signal_build INT $pid &&
	rc=0 &&
	{ wait $pid || rc=$?; } &&
	test "$rc" = 130 &&
	test "$(fake_stat "d[\"cancels_effective\"]")" = 4 &&
	test "$(grep -c "^FAILED anchor/.*: cancelled$" err3)" = 4 &&
	fake_control "{\"job_ms\": 100}" &&
	lm maya/recipe.yaml >out4 2>err4 &&
	grep -E "^[0-9]+ nodes built in .*, 0 failed$" out4 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 10
'
test_expect_success 'no output or file shows the key' '
	no_secret "$REPLICATE_API_TOKEN" out err out2 err2 out3 err3 out4 err4 maya "$TRASH/fake.log"
'
test_done
