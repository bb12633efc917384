#!/bin/sh
# t3102: the Replicate engine under a fault mix from the fake: 10% of
# creates and polls answer 500, 5% of answers dropped mid-body, 5% of
# images truncated, and a burst of 429s whose wait is only in the body's
# retry_after (no Retry-After header). Every node finishes or fails with
# a reason; no image is submitted twice except where a dropped create lost
# its answer (said for each); no broken image reaches the cache; a
# rebuild with the faults off finishes and submits only what did not
# finish; the key appears nowhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/replicate-lib.sh"
start_replicate --job-ms 150 --fail-500 0.1 --drop 0.05 --truncate 0.05 \
	--burst-429 12 --retry-after 1 --retry-after-header false --seed 7 || exit 1
export REPLICATE_API_TOKEN=$REPLICATE_TEST_KEY

# doubles_explained ERR: every extra create of a key matches a "submit
# answer lost" line of its node in ERR.
doubles_explained() {
	lm plan --json maya/recipe.yaml >plan.json &&
	python3 "$SRC/tests/data/planjson.py" keys plan.json >keys &&
	fake_stat "d[\"submits_by_key\"]" >by_key.json &&
	python3 - "$1" <<-'PY'
	import json, re, sys
	node_of = {v: k for k, v in (l.split() for l in open("keys") if len(l.split()) == 2)}
	lost = {}
	for line in open(sys.argv[1], errors="replace"):
	    m = re.match(r"loramake: replicate: (\S+): submit answer lost", line)
	    if m:
	        lost[m.group(1)] = lost.get(m.group(1), 0) + 1
	for key, n in json.load(open("by_key.json")).items():
	    node = node_of.get(key.split("/")[0], key)
	    assert n == 1 or lost.get(node, 0) >= n - 1, (node, n, lost.get(node))
	PY
}

test_expect_success 'under the fault mix every node finishes or fails with a reason' '
	copy_recipe maya && use_replicate maya/recipe.yaml &&
	{ lm maya/recipe.yaml >out 2>err || test $? = 1; } &&
	grep -E "^[0-9]+ nodes built in .*, [0-9]+ failed$" out &&
	! grep "^FAILED [^:]*: *$" err &&
	test "$(fake_stat "d[\"faults\"][\"burst_429\"]")" = 12 &&
	test "$(fake_stat "d[\"faults\"][\"fail\"] + d[\"faults\"][\"drop\"] + d[\"faults\"][\"truncate\"]")" -gt 0
'
test_expect_success 'no image was submitted twice, except after a lost answer' '
	doubles_explained err
'
test_expect_success 'no broken image is in the cache' '
	if [ -d maya/.loramake/objects ]; then check_pngs maya/.loramake/objects; fi
'
test_expect_success 'with the faults off, a rebuild finishes; finished nodes are not resubmitted' '
	fake_stat "d[\"submits_by_key\"]" >before.json &&
	fake_control "{\"fail_500\": 0, \"drop\": 0, \"truncate\": 0}" &&
	lm maya/recipe.yaml >out2 2>err2 &&
	grep -E "^[0-9]+ nodes built in .*, 0 failed$|^nothing to do" out2 &&
	fake_stat "d[\"submits_by_key\"]" >after.json &&
	python3 - <<-PY &&
	import json, re
	before, after = json.load(open("before.json")), json.load(open("after.json"))
	key_of = dict(l.split() for l in open("keys") if len(l.split()) == 2)
	failed = {re.match(r"FAILED (\S+):", l).group(1) for l in open("err") if l.startswith("FAILED ")}
	may = {key_of[n] for n in failed if n in key_of}
	resub = [k for k in before if after[k] != before[k]]
	print("failed:", sorted(failed), "created again:", len(resub))
	assert all(k.split("/")[0] in may for k in resub), (resub, may)
	PY
	check_pngs maya/.loramake/objects
'
test_expect_success 'no output or file shows the key' '
	no_secret "$REPLICATE_API_TOKEN" out err out2 err2 maya "$TRASH/fake.log"
'
test_done
