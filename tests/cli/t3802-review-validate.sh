#!/bin/sh
# t3802: the review page shows what the trained LoRA makes (validate:)
# beside the dataset that trained it: the state lists each validation
# image as unasked until `loramake R train` has run, then built with its
# image; in chromium the page draws them below the grid, each labelled
# with its prompt.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"

BROWSER_DIR=$SRC/tests/browser
if ! test -x /usr/bin/chromium || ! test -f "$BROWSER_DIR/node_modules/playwright-core/package.json" ||
	! command -v node >/dev/null; then
	echo "not ok - $TEST_NAME: chromium, node or playwright-core is missing: sh tests/deps.sh installs them"
	exit 1
fi
start_fake --job-ms 50 || exit 1
export FAL_KEY=$FAL_TEST_KEY

# vstate FILE: each validation node's "state outs" from the state JSON
vstate() {
	python3 -c 'import json, sys; print(" ".join("%s:%s:%d" % (n["id"], n["state"], len(n["outs"])) for n in json.load(open(sys.argv[1]))["nodes"] if n["kind"] == "validate"))' "$1"
}

test_expect_success 'setup: the dataset built, not trained, served' '
	validate_recipe r &&
	lm r/recipe.yaml >out 2>err &&
	{ "$LORAMAKE" review --no-open r/recipe.yaml >srv.out 2>srv.err & } &&
	echo $! >srv.pid &&
	wait_for "grep -q \"^review: http://127.0.0.1:[0-9]*/?token=\" srv.out"
'
at_exit 'kill "$(cat "$TRASH/srv.pid")" 2>/dev/null'
URL=$(sed -n 's/^review: \(http.*\)$/\1/p' "$TRASH/srv.out")
STATE="${URL%%/?token=*}/api/state?token=${URL##*token=}"

test_expect_success 'before the training the validation images are unasked, with no image' '
	curl -sf "$STATE" >s1.json &&
	test "$(vstate s1.json)" = "validate/park:unasked:0 validate/cafe:unasked:0"
'
test_expect_success 'loramake R train makes them, and the open page'"'"'s state has them built' '
	lm r/recipe.yaml train >out2 2>err2 &&
	wait_for "curl -sf \"$STATE\" >s2.json && test \"\$(vstate s2.json)\" = \"validate/park:built:1 validate/cafe:built:1\""
'
test_expect_success 'in chromium the page draws them below the grid, labelled by prompt' '
	node "$BROWSER_DIR/validate.mjs" "$URL" 2 >browser.out 2>browser.err &&
	grep -x "browser: 2 validation images: VACHAR, walking in a park, VACHAR, reading in a cafe" browser.out
'
test_done
