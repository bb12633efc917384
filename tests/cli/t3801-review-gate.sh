#!/bin/sh
# t3801: the review page shows the identity gate's verdicts (docs/vision.md):
# each judged image's state carries its gate (failed, score, reasons), a
# failed one counts on the status line, an image with no verdict has
# null, and keeping a failed image by hand (p) is what puts it back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gemini-lib.sh"
start_gemini --job-ms 20 || exit 1
export GEMINI_API_KEY=$GEMINI_TEST_KEY

# node ID KEY: the state's KEY of node ID, as JSON
node() {
	curl -sf "$STATE" >state.json &&
	python3 -c 'import json, sys; d = json.load(open("state.json")); print(json.dumps([n for n in d["nodes"] if n["id"] == sys.argv[1]][0][sys.argv[2]]))' "$1" "$2"
}

test_expect_success 'setup: a gated recipe built, one image failing the gate, served' '
	gem_recipe g &&
	printf "gate: { engine: gem, against: hero, min: 0.7 }\n" >>g/recipe.yaml &&
	fake_control "{\"gate_fail\": [\"woman, back,\"]}" &&
	lm g/recipe.yaml >out 2>err &&
	grep "^gate: angle/back failed" out &&
	{ "$LORAMAKE" review --no-open g/recipe.yaml >srv.out 2>srv.err & } &&
	echo $! >srv.pid &&
	wait_for "grep -q \"^review: http://127.0.0.1:[0-9]*/?token=\" srv.out"
'
at_exit 'kill "$(cat "$TRASH/srv.pid")" 2>/dev/null'
URL=$(sed -n 's/^review: \(http.*\)$/\1/p' "$TRASH/srv.out")
BASE=${URL%%/?token=*}
TOKEN=${URL##*token=}
STATE="$BASE/api/state?token=$TOKEN"

test_expect_success 'a failed image carries its verdict: failed, its score and the reasons' '
	node angle/back gate >gate.json &&
	python3 -c "import json; g = json.load(open(\"gate.json\")); assert g == {\"failed\": True, \"score\": 0.35, \"reasons\": \"jaw wider; eyes soft; head turned to camera on a back view\"}, g" &&
	node angle/back selected >sel && test "$(cat sel)" = false
'
test_expect_success 'a passed image carries its pass; the hero, never judged, null' '
	node angle/front gate >gate2.json &&
	python3 -c "import json; g = json.load(open(\"gate2.json\")); assert g[\"failed\"] is False and g[\"score\"] == 0.92, g" &&
	test "$(node hero gate)" = null
'
test_expect_success 'the status line counts the images that failed the gate' '
	curl -sf "$STATE" >state.json &&
	python3 -c "import json; t = json.load(open(\"state.json\"))[\"totals\"]; assert t[\"gate_failed\"] == 1, t"
'
test_expect_success 'keeping the failed image by hand puts it back in the package, verdict still shown' '
	test "$(curl -s -o keep.json -w "%{http_code}" -X POST -H "X-Loramake-Token: $TOKEN" "$BASE/api/keep?node=angle/back")" = 200 &&
	grep -q "^pick angle/back " g/recipe.lock &&
	test "$(node angle/back selected)" = true &&
	node angle/back gate >gate3.json &&
	grep -q "\"failed\": true" gate3.json
'
test_done
