#!/bin/sh
# t3007: a hostile server, or a hostile recipe folder, cannot turn the
# key against the user. A planted .loramake/pending line for another host
# is dropped (with a warning) and the key never goes there; follow-up URLs
# to another host in a submit answer fail the node; a request id that is
# not [A-Za-z0-9._-]{1,128} is never stored as an id (the failures file
# quotes it, escaped, among the words); escapes in a server's words
# reach neither the terminal nor a state file; an error body that echoes
# the request headers shows "[redacted]", not the key; a failed model run
# leaves the pending journal and the rebuild submits anew; every redirect
# is checked (no key to another origin, no plain http off loopback); no
# proxy for loopback; no core file while a key is in use.
. "$(dirname "$0")/lib.sh"
Q="'"  # a quote, for the patterns inside test bodies
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 100 || exit 1
start_other --job-ms 100 || exit 1
export FAL_KEY=$FAL_TEST_KEY
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY


other_requests() { other_stat "sum(d[\"requests_by_kind\"].values())"; }

# control FILE: POST the JSON in FILE to the fake's /_control
control_file() { fake_control "$(cat "$1")"; }

# honest: the fake a well-behaved server again, its ledger emptied
honest() {
	fake_control '{"reset": true, "urls_base": "", "request_id": "", "fail_detail": "", "redirect_submit": "", "redirect_files": "", "job_fail": 0, "job_ms": 100}'
}

test_expect_success 'a planted pending line for another host is dropped with a warning; the key never goes there' '
	tiny p1 &&
	key=$(lm plan --json p1/recipe.yaml | python3 -c "import json, sys; print([j[\"key\"] for j in json.load(sys.stdin)[\"jobs\"] if j[\"id\"] == \"angle/front\"][0])") &&
	mkdir -p p1/.loramake &&
	u=$OTHER_URL/fal-ai/qwen-image-edit-2511-multiple-angles/requests/planted &&
	printf "# loramake pending v1\n%s\t1\tplanted %s/status %s -\n" "$key" "$u" "$u" >p1/.loramake/pending &&
	lm p1/recipe.yaml >out 2>err &&
	grep "fal: angle/front: dropping candidate 1${Q}s request recorded in .loramake/pending: refusing to send the key to ${Q}$OTHER_URL${Q}: only to the engine${Q}s own ${Q}$FAKE_URL${Q}; it is submitted anew" err &&
	test "$(other_requests)" = 0 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 2 &&
	grep -q "^$key	1	\$" p1/.loramake/pending
'
test_expect_success 'two planted lines for one candidate: the last counts, said once, then forgotten' '
	honest &&
	tiny p0 &&
	key=$(lm plan --json p0/recipe.yaml | python3 -c "import json, sys; print([j[\"key\"] for j in json.load(sys.stdin)[\"jobs\"] if j[\"id\"] == \"angle/back\"][0])") &&
	mkdir -p p0/.loramake &&
	u=$OTHER_URL/fal-ai/qwen-image-edit-2511-multiple-angles/requests &&
	printf "# loramake pending v1\n%s\t1\tfirst %s/first/status %s/first -\n%s\t1\tx\$(id) %s/second/status %s/second -\n" "$key" "$u" "$u" "$key" "$u" "$u" >p0/.loramake/pending &&
	lm p0/recipe.yaml >out 2>err &&
	test "$(grep -c "dropping candidate 1" err)" = 1 &&
	grep "fal: angle/back: dropping candidate 1${Q}s request recorded in .loramake/pending: request id ${Q}x\$(id)${Q} is not" err &&
	test "$(other_requests)" = 0 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 2
'
test_expect_success 'follow-up URLs to another host in a submit answer fail the node; nothing goes there' '
	honest && fake_control "{\"urls_base\": \"$OTHER_URL\"}" &&
	tiny p2 &&
	expect_exit 1 lm p2/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: ${Q}$MA${Q}: unexpected submit answer: refusing to send the key to ${Q}$OTHER_URL${Q}: only to the engine${Q}s own ${Q}$FAKE_URL${Q}" err &&
	test "$(other_requests)" = 0 &&
	! grep -q "$OTHER_URL" p2/.loramake/pending &&
	fake_control "{\"urls_base\": \"\"}"
'
test_expect_success 'a request id that is not [A-Za-z0-9._-]{1,128} never reaches a state file' '
	honest && fake_control "{\"request_id\": \"x\$(id>pwned)\"}" &&
	tiny p3 &&
	expect_exit 1 lm p3/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: ${Q}$MA${Q}: unexpected submit answer: request id ${Q}x\$(id>pwned)${Q} is not \[A-Za-z0-9._-\]{1,128}" err &&
	! grep -rq --exclude=failures "pwned" p3/.loramake p3/recipe.lock &&
	grep -q "request id ${Q}x\$(id>pwned)${Q} is not" p3/.loramake/failures &&
	fake_control "{\"request_id\": \"\"}"
'
test_expect_success 'escapes and controls in the words of a server reach neither the terminal nor a state file' '
	honest &&
	python3 -c "import json; print(json.dumps({\"job_fail\": 1, \"job_ms\": 0, \"fail_detail\": \"evil \x1b[2J\x1b]0;owned\x07 csi \x9b6n del \x7f end\"}))" >ctl.json &&
	control_file ctl.json &&
	tiny p4 &&
	expect_exit 1 lm p4/recipe.yaml >out 2>err &&
	grep -F "FAILED angle/front: ${Q}$MA${Q} failed: evil \\x1b[2J\\x1b]0;owned\\x07 csi \\u009b6n del \\x7f end" err &&
	! grep -qa "$(printf "\033")" out err p4/recipe.lock p4/.loramake/pending &&
	! grep -qa "$(printf "\302\233")" out err p4/recipe.lock p4/.loramake/pending &&
	! grep -qa "$(printf "\177")" out err p4/recipe.lock p4/.loramake/pending
'
test_expect_success 'a failed model run leaves the pending journal: the rebuild submits anew and finishes' '
	test "$(grep -c "	1	\$" p4/.loramake/pending)" = 2 &&
	fake_control "{\"job_fail\": 0, \"job_ms\": 100}" &&
	n=$(fake_stat "d[\"submits_total\"]") &&
	lm p4/recipe.yaml >out 2>err &&
	test "$(fake_stat "d[\"submits_total\"]")" = $((n + 2)) &&
	test -f p4/build/angle/front.png && test -f p4/build/angle/back.png &&
	! grep "earlier build" err
'
test_expect_success 'an error body that echoes the request headers shows [redacted], never the key' '
	honest && fake_control "{\"job_fail\": 1, \"fail_detail\": \"bad request; headers: {headers}\"}" &&
	tiny p5 &&
	expect_exit 1 lm -v p5/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: .*Authorization: Key \[redacted\]" err &&
	no_secret "$FAL_KEY" out err p5 &&
	fake_control "{\"job_fail\": 0, \"fail_detail\": \"\"}"
'
test_expect_success 'a redirect of a keyed request to plain http off loopback is refused before it is sent' '
	honest && fake_control "{\"redirect_submit\": \"http://192.0.2.1/fal-ai/x\"}" &&
	tiny r1 &&
	expect_exit 1 timeout 60 "$LORAMAKE" r1/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: ${Q}$MA${Q}: submit failed: refusing a redirect (HTTP 307): refusing plain http to ${Q}http://192.0.2.1${Q}" err &&
	test "$(fake_stat "d[\"requests_by_kind\"][\"submit\"]")" = 2
'
test_expect_success 'a redirect of a keyed request to another loopback origin is refused; nothing goes there' '
	honest && fake_control "{\"redirect_submit\": \"$OTHER_URL/$MA\"}" &&
	tiny r2 &&
	expect_exit 1 lm r2/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: .*refusing a redirect (HTTP 307): refusing to send the key to ${Q}$OTHER_URL${Q}" err &&
	test "$(other_requests)" = 0 &&
	fake_control "{\"redirect_submit\": \"\"}"
'
test_expect_success 'a file download may be redirected to another loopback host (no key goes along)' '
	honest && fake_control "{\"redirect_files\": \"$OTHER_URL\"}" &&
	tiny r3 &&
	lm r3/recipe.yaml >out 2>err &&
	test "$(other_stat "d[\"files_served\"]")" = 2 &&
	test "$(other_stat "d[\"auth_failures\"]")" = 0 &&
	check_pngs r3/.loramake/objects
'
test_expect_success 'a file download redirected to plain http off loopback is refused, not retried' '
	honest && fake_control "{\"redirect_files\": \"http://192.0.2.1\"}" &&
	tiny r4 &&
	expect_exit 1 timeout 60 "$LORAMAKE" r4/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: ${Q}$MA${Q}: download failed: refusing a redirect (HTTP 302): refusing plain http to ${Q}http://192.0.2.1${Q}" err &&
	test "$(fake_stat "d[\"requests_by_kind\"][\"file\"]")" = 2 &&
	fake_control "{\"redirect_files\": \"\"}"
'
test_expect_success 'with http_proxy set, loopback requests still go straight to the server' '
	honest &&
	n=$(other_requests) &&
	tiny x1 &&
	http_proxy=$OTHER_URL HTTP_PROXY=$OTHER_URL ALL_PROXY=$OTHER_URL lm x1/recipe.yaml >out 2>err &&
	test "$(other_requests)" = "$n" &&
	test "$(fake_stat "d[\"submits_total\"]")" = 2
'
test_expect_success 'a build with a key in use can leave no core file' '
	honest && fake_control "{\"job_ms\": 60000}" &&
	tiny c1 &&
	{ sh -c "ulimit -c unlimited && exec \"\$0\" c1/recipe.yaml" "$LORAMAKE" >out 2>err & } &&
	pid=$! &&
	wait_for "test \$(fake_stat \"d[\\\"submits_total\\\"]\") -ge 1" &&
	wait_for "grep \"^Max core file size *0 *0 \" /proc/$pid/limits" &&
	signal_build 9 $pid && { wait $pid || :; } &&
	fake_control "{\"job_ms\": 100}"
'
test_expect_success 'no output or file shows the key' '
	no_secret "$FAL_KEY" out err p1 p2 p3 p4 p5 r1 r2 r3 r4 x1 c1 "$TRASH/fake.log" "$TRASH/other.log"
'
test_done
