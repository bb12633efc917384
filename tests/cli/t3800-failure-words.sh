#!/bin/sh
# t3800: a node's failure outlives the build that printed it. The words
# the engine said are kept by the node's key in .loramake/failures, so
# plan, plan --json, explain and the review page (live, while it is open)
# say "failed" with them; a later success for the key, or an edit that
# changes the key, leaves them unshown; a damaged or hostile failures
# file is never shown raw.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 50 || exit 1
export FAL_KEY=$FAL_TEST_KEY

# key ID: the node's key, from plan --json
key() {
	lm plan --json t/recipe.yaml >key.json &&
	python3 -c 'import json, sys; print([n for n in json.load(open("key.json"))["jobs"] if n["id"] == sys.argv[1]][0]["key"])' "$1"
}
# failed ID: plan --json's "failed" of node ID, as JSON
failed() {
	lm plan --json t/recipe.yaml >failed.json &&
	python3 -c 'import json, sys; print(json.dumps([n for n in json.load(open("failed.json"))["jobs"] if n["id"] == sys.argv[1]][0]["failed"]))' "$1"
}

test_expect_success 'a failed node'"'"'s words are kept in .loramake/failures by its key' '
	tiny t &&
	fake_control "{\"job_fail\": 1, \"fail_detail\": \"GPU fell over\"}" &&
	expect_exit 1 lm t/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: .*GPU fell over" err &&
	head -1 t/.loramake/failures >header &&
	echo "# loramake failures v1" >want && cmp want header &&
	test "$(grep -c "GPU fell over" t/.loramake/failures)" = 2 &&
	grep -q "^$(key angle/front)	[0-9]*	.*GPU fell over" t/.loramake/failures &&
	grep -q "^$(key angle/back)	[0-9]*	.*GPU fell over" t/.loramake/failures
'
test_expect_success 'plan lists the nodes that failed when last tried, with the engine'"'"'s words' '
	lm plan t/recipe.yaml >plan.out 2>plan.err &&
	grep -x "failed when last tried (they run again):" plan.out &&
	grep "^  angle/front: .*GPU fell over" plan.out &&
	grep "^  angle/back: .*GPU fell over" plan.out
'
test_expect_success 'plan --json gives each failed node its words and the others null' '
	failed angle/front >f.json &&
	grep -q "GPU fell over" f.json &&
	test "$(failed hero)" = null
'
test_expect_success 'explain says why the node failed when last tried' '
	lm explain t/recipe.yaml angle/front >ex.out 2>ex.err &&
	grep "^  failed when last tried: .*GPU fell over" ex.out
'
test_expect_success 'a hostile message is kept escaped: no control byte reaches the file or a plan' '
	python3 -c "import json; print(json.dumps({\"fail_detail\": \"evil \x1b[2J\x1b]0;owned\x07 end\"}))" >ctl.json &&
	fake_control "$(cat ctl.json)" &&
	expect_exit 1 lm t/recipe.yaml >out2 2>err2 &&
	grep -q "evil \\\\x1b\[2J" t/.loramake/failures &&
	! grep -q "$(printf "\033")" t/.loramake/failures &&
	lm plan t/recipe.yaml >plan2.out 2>plan2.err &&
	grep "^  angle/front: .*evil \\\\x1b\[2J" plan2.out &&
	! grep -q "$(printf "\033")" plan2.out &&
	test "$(grep -c "	" t/.loramake/failures)" = 2
'
test_expect_success 'the review page shows failed with the words, and a failure of a build run while it is open' '
	{ "$LORAMAKE" review --no-open t/recipe.yaml >srv.out 2>srv.err & } &&
	echo $! >srv.pid &&
	at_exit "kill $(cat srv.pid) 2>/dev/null" &&
	wait_for "grep -q \"^review: http://127.0.0.1:[0-9]*/?token=\" srv.out" &&
	u=$(sed -n "s/^review: \(http.*\)\/?token=\(.*\)$/\1\/api\/state?token=\2/p" srv.out) &&
	curl -sf "$u" >state.json &&
	python3 - state.json <<-\PY &&
	import json, sys
	d = json.load(open(sys.argv[1]))
	n = {x["id"]: x for x in d["nodes"]}
	assert n["angle/front"]["state"] == "failed", n["angle/front"]
	assert "evil \\x1b[2J" in n["angle/front"]["failed"], n["angle/front"]["failed"]
	assert n["hero"]["failed"] is None
	assert d["totals"]["failed"] == 2, d["totals"]
	PY
	fake_control "{\"fail_detail\": \"out of credits\"}" &&
	expect_exit 1 lm t/recipe.yaml >out3 2>err3 &&
	wait_for "curl -sf \"$u\" | grep -q \"out of credits\"" &&
	kill "$(cat srv.pid)"
'
test_expect_success 'a success for the key clears its failure from plan and the file' '
	fake_control "{\"job_fail\": 0, \"fail_detail\": \"\"}" &&
	lm t/recipe.yaml >out4 2>err4 &&
	lm plan t/recipe.yaml >plan4.out 2>plan4.err &&
	! grep "failed when last tried" plan4.out &&
	test "$(failed angle/front)" = null &&
	echo "# loramake failures v1" >want && cmp want t/.loramake/failures
'
test_expect_success 'an edit that changes the key leaves an earlier failure unshown' '
	fake_control "{\"job_fail\": 1, \"fail_detail\": \"GPU fell over\"}" &&
	sed -i "s/framing: medium }/framing: medium, params: { zoom: 3 } }/" t/recipe.yaml &&
	grep -q "zoom: 3" t/recipe.yaml &&
	expect_exit 1 lm t/recipe.yaml >out5 2>err5 &&
	lm plan t/recipe.yaml >plan5.out 2>plan5.err &&
	grep "^  angle/front: .*GPU fell over" plan5.out &&
	sed -i "s/zoom: 3/zoom: 4/" t/recipe.yaml &&
	grep -q "zoom: 4" t/recipe.yaml &&
	lm plan t/recipe.yaml >plan6.out 2>plan6.err &&
	! grep "failed when last tried" plan6.out &&
	grep "^angle/front .* stale" plan6.out
'
test_expect_success 'a damaged failures file is read line by line and never shown raw' '
	k=$(key angle/front) &&
	printf "%s\t1700000000\traw \033[31m red\n%s\t-1\tnegative\n%s\t1700000000\n" "$k" "$k" "$k" >>t/.loramake/failures &&
	lm plan t/recipe.yaml >plan7.out 2>plan7.err &&
	! grep "failed when last tried" plan7.out &&
	! grep -q "$(printf "\033")" plan7.out &&
	printf "# loramake failures v9\n%s\t1700000000\tfrom the future\n" "$k" >t/.loramake/failures &&
	lm plan t/recipe.yaml >plan8.out 2>plan8.err &&
	! grep "from the future" plan8.out
'
test_done
