#!/bin/sh
# t2210: the whole bill. plan prices the nodes that wait on a pick (as they
# will run once picked), shows them on a line of their own and in the
# total, in the table and in --json; --max-cost counts them.
#
# recipes/fitmannequin at the prices of docs/recipe.md (engine_type.c):
#   now:     8 anchors x 10 candidates x $0.04 (flux-pro/v1.1-ultra) = $3.20,
#            20 captions (free); 80 jobs at 12 s on fal's 8 slots = 120 s
#   waiting: 16 angles x $0.03 (flux/dev/image-to-image) = $0.48,
#            20 upscales and the package (free) = 37 jobs
#   in all:  $3.68, what --pick first (nothing waits) costs
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a copy of recipes/fitmannequin, nothing picked' '
	copy_recipe fitmannequin
'
test_expect_success 'plan totals show the waiting work apart and in the total' '
	lm plan fitmannequin/recipe.yaml >plan 2>err &&
	grep -x "28 jobs to run (8 anchor, 20 caption), 0 cached" plan &&
	grep "^estimated cost \$3.20, about 2m00s at -j " plan &&
	grep -x "waiting on a pick: 37 jobs (16 angle, 20 upscale, 1 package), \$0.48, about [0-9ms]* once picked" plan &&
	grep -x "in all, with the waiting work: \$3.68, about [0-9ms]*" plan
'
test_expect_success 'the table prices each waiting node' '
	grep "^angle/curl/1 .* waiting *needs a pick of anchor/front \$0.030$" plan &&
	grep "^upscale/curl/1 .* waiting *needs a pick of anchor/front \$0.000$" plan
'
test_expect_success 'plan --json: waiting_usd, waiting_seconds, total_usd, total_seconds' '
	lm plan --json fitmannequin/recipe.yaml >plan.json 2>err &&
	python3 - <<-PY
	import json
	p = json.load(open("plan.json"))
	t = p["totals"]
	near = lambda a, b: abs(a - b) < 1e-9
	assert (t["jobs"], t["waiting"]) == (28, 37), t
	assert near(t["cost_usd"], 3.20) and near(t["waiting_usd"], 0.48), t
	assert near(t["total_usd"], 3.68), t
	assert t["seconds"] == 120, t
	# the 16 angles alone are two rounds of 8 s on fal 8 slots
	assert t["waiting_seconds"] >= 16, t
	assert near(t["total_seconds"], t["seconds"] + t["waiting_seconds"]), t
	waiting = [j for j in p["jobs"] if j["state"] == "waiting"]
	assert len(waiting) == 37, len(waiting)
	assert near(sum(j["cost_usd"] for j in waiting), t["waiting_usd"]), t
	PY
'
test_expect_success 'the waiting work costs what it costs once picked: --pick first' '
	lm plan --pick first fitmannequin/recipe.yaml >first 2>err &&
	grep "^estimated cost \$3.68," first &&
	! grep "waiting on a pick" first
'
test_expect_success '--max-cost refuses a build whose only excess is waiting work' '
	expect_exit 1 lm --max-cost 3.50 fitmannequin/recipe.yaml >out 2>err &&
	grep "the plan costs \$3.68 with the \$0.48 that waits on a pick (\$3.20 now), more than --max-cost 3.50; nothing was run" err &&
	test ! -e fitmannequin/.loramake/actions
'
test_expect_success '--max-cost at the whole bill lets the build go on (to the key check)' '
	expect_exit 1 lm --max-cost 3.68 fitmannequin/recipe.yaml >out 2>err &&
	! grep -e "--max-cost" err &&
	grep "needs its API key in \$FAL_KEY" err
'
test_done
