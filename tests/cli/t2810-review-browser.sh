#!/bin/sh
# t2810: the review page in a real browser (Debian's chromium, headless,
# driven by playwright-core: tests/browser/review.mjs). On fitmannequin
# built with the preview engine, a candidate of each of the 8 anchors is
# picked with the keyboard, a build elsewhere shows up on the page, a
# variation is dropped and one rerolled; then recipe.lock holds the 8
# picks, the keeps without the drop and the reroll, and a build goes on
# from them: the package holds the 4 upscaled anchors that are leaves and
# the 2 variations kept. The static page (--html) shows every image, read-only.
# Without chromium or playwright-core this fails, saying how to get them:
# a missing browser must not pass for a working page.
. "$(dirname "$0")/lib.sh"

BROWSER_DIR=$SRC/tests/browser
if ! test -x /usr/bin/chromium; then
	echo "not ok - $TEST_NAME: /usr/bin/chromium is missing: sh tests/deps.sh installs Debian's chromium"
	exit 1
fi
if ! test -f "$BROWSER_DIR/node_modules/playwright-core/package.json" || ! command -v node >/dev/null; then
	echo "not ok - $TEST_NAME: node or playwright-core is missing: sh tests/deps.sh runs npm ci in tests/browser/"
	exit 1
fi

url() { sed -n 's/^review: \(http.*\)$/\1/p' "$TRASH/srv.out"; }
stop_review() { signal_build TERM "$(cat "$TRASH/srv.pid")"; }
# pick_of ID: the candidate the lock holds for ID
pick_of() { sed -n "s|^pick $1 \([0-9]*\)$|\1|p" fitmannequin/recipe.lock; }

test_expect_success 'setup: fitmannequin built with the preview engine, served' '
	copy_recipe fitmannequin &&
	expect_exit 3 lm --engine preview fitmannequin >build0.out 2>build0.err &&
	{ "$LORAMAKE" review --engine preview --no-open fitmannequin >srv.out 2>srv.err & } &&
	echo $! >srv.pid &&
	wait_for "grep -q \"^review: http\" srv.out"
'
at_exit 'test -d "/proc/$(cat "$TRASH/srv.pid")" && stop_review'

test_expect_success 'in chromium: 8 anchors picked by key, a build followed live, a variation dropped and one rerolled' '
	mkdir shots &&
	LORAMAKE=$LORAMAKE node "$BROWSER_DIR/review.mjs" "$(url)" fitmannequin shots >browser.out 2>browser.err &&
	grep "^browser: done" browser.out &&
	test -s shots/review-grid.png && test -s shots/review-candidates.png && test -s shots/review-check.png
'
test_expect_success 'recipe.lock holds the 8 picks, the keeps but the dropped one, and the reroll' '
	test "$(grep -c "^pick anchor/" fitmannequin/recipe.lock)" = 8 &&
	for a in front back side quarter arms_up bent seated hanging; do
		test -n "$(pick_of anchor/$a)" || return 1
	done &&
	test "$(pick_of upscale/curl/1)" = 1 &&
	test "$(pick_of upscale/squat/1)" = 1 &&
	test -z "$(pick_of upscale/curl/2)" &&
	test -z "$(pick_of upscale/squat/3)" &&
	grep -qx "reroll angle/squat/2 1" fitmannequin/recipe.lock &&
	grep -q "anchor/front: candidate" srv.out &&
	grep -q "rerolled angle/squat/2 (reroll 1)" srv.out
'
test_expect_success 'a build goes on from them: the reroll and the package run, nothing else' '
	lm --engine preview fitmannequin >build2.out 2>build2.err &&
	grep -q "^3 nodes built" build2.out &&
	grep -q "angle/squat/2 (preview" build2.err &&
	grep -q "upscale/squat/2 (local" build2.err &&
	grep -q "package" build2.err &&
	lm plan --engine preview fitmannequin >plan.out 2>plan.err &&
	! grep -E " (waiting|new|stale) " plan.out &&
	unzip -l fitmannequin/dist/fitmannequin.zip >zip.txt &&
	test "$(grep -c "\.png$" zip.txt)" = 6 &&
	grep -q "curl-1.png" zip.txt && grep -q "squat-1.png" zip.txt &&
	! grep -q "curl-2.png" zip.txt
'
test_expect_success 'the static page (--html) shows every image, and changes nothing' '
	lm review --engine preview fitmannequin --html fitmannequin/sheet >html.out 2>html.err &&
	grep "review: fitmannequin/sheet/index.html" html.out &&
	cp fitmannequin/recipe.lock before.lock &&
	node "$BROWSER_DIR/static.mjs" "$TRASH/fitmannequin/sheet/index.html" >static.out 2>static.err &&
	grep "^browser: done" static.out &&
	cmp before.lock fitmannequin/recipe.lock
'
test_expect_success 'the server stops cleanly: no sanitizer report' '
	stop_review &&
	wait_for "! test -d /proc/$(cat srv.pid)" &&
	! grep -E "Sanitizer|runtime error" srv.err
'
test_done
