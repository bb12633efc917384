#!/bin/sh
# t3004: never pay twice. A build killed with SIGKILL while fal requests
# are in flight, run again, polls the requests it recorded instead of
# submitting them again, and submits only the jobs never submitted, and
# says which images are an earlier build's answers. A recorded request
# the service no longer knows (404) is submitted anew.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
# jobs are held (60 s) until a test releases them ("release_ms"): on a
# loaded machine none may finish before the test has looked
start_fake --job-ms 60000 || exit 1
export FAL_KEY=$FAL_TEST_KEY

actions() { lines_in jinx/.loramake/actions; }

test_expect_success 'SIGKILL with requests in flight, then a rebuild: no job submitted twice' '
	copy_recipe jinx && use_fake jinx/recipe.yaml 16 &&
	{ "$LORAMAKE" jinx/recipe.yaml >out 2>err & } &&
	pid=$! &&
	wait_for "test \$(pending) -ge 12" &&
	# the 12 angles finish; the expressions after them stay in flight
	fake_control "{\"release_ms\": 100}" &&
	wait_for "test \$(pending) -ge 20" &&
	signal_build 9 $pid &&
	{ wait $pid || true; } &&
	sub=$(fake_stat "d[\"submits_total\"]") && rec=$(pending) &&
	echo "killed after $sub submits, $rec recorded, $(($(actions) - 1)) finished" &&
	test "$sub" -ge 20 && test "$sub" -lt 61 &&
	test "$(fake_stat "d[\"inflight\"]")" -gt 0 &&
	fake_control "{\"job_ms\": 100, \"release_ms\": 100}" &&
	lm jinx/recipe.yaml >out2 2>err2 &&
	grep "dataset: jinx/dist/jinx.zip" out2 &&
	# each resumed node says its image is an earlier build'"'"'s answer
	test "$(grep -c "^loramake: fal: .*: 1 of 1 image came from requests an earlier build submitted$" err2)" -ge 1 &&
	# a submit whose answer the kill cut off was never recorded: it is the
	# only kind sent again (fal has no idempotency key); all else resumes
	lost=$((sub - rec)) &&
	test "$(fake_stat "d[\"submits_total\"]")" = $((61 + lost)) &&
	test "$(fake_stat "sum(v > 1 for v in d[\"submits_by_key\"].values())")" = "$lost" &&
	test "$(fake_stat "max(d[\"submits_by_key\"].values())")" -le 2 &&
	check_pngs jinx/.loramake/objects
'
test_expect_success 'the lock names, per node, a request id the service issued' '
	fake_stat "\"\\n\".join(s[\"request_id\"] for s in d[\"submitted\"])" >issued &&
	grep -o "request=[^ ]*" jinx/recipe.lock | cut -d= -f2 >named &&
	test "$(wc -l <named)" = 61 &&
	while read -r id; do
		grep -qx "$id" issued || { echo "the service never issued $id"; exit 1; }
	done <named
'
test_expect_success 'requests the service forgot are submitted anew' '
	rm -rf jinx/.loramake jinx/build jinx/recipe.lock jinx/dist &&
	fake_control "{\"reset\": true, \"job_ms\": 60000}" &&
	{ "$LORAMAKE" jinx/recipe.yaml >out 2>err & } &&
	pid=$! &&
	wait_for "test \$(pending) -ge 12" &&
	signal_build 9 $pid &&
	{ wait $pid || true; } &&
	fake_control "{\"reset\": true, \"job_ms\": 100}" &&
	lm plan --json jinx/recipe.yaml >left.json &&
	left=$(python3 -c "import json, sys; print(sum(j[\"engine\"] == \"fal\" and j[\"state\"] in (\"new\", \"stale\") for j in json.load(open(\"left.json\"))[\"jobs\"]))") &&
	test "$left" -ge 49 &&
	lm jinx/recipe.yaml >out2 2>err2 &&
	grep "dataset: jinx/dist/jinx.zip" out2 &&
	{ test "$(fake_stat "d[\"submits_total\"]")" = "$left" || { cat err2; fake_stat "d"; false; }; } &&
	test "$(fake_stat "d[\"by_status\"].get(\"404\", 0)")" -ge 12
'
test_expect_success 'no output or file shows the key' '
	no_secret "$FAL_KEY" out err out2 err2 jinx "$TRASH/fake.log"
'
test_done
