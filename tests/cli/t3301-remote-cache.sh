#!/bin/sh
# t3301: the team cache (docs/remote-cache.md) on a real nginx with WebDAV
# on loopback: a paid build in one folder fills it, a fresh copy of the
# recipe in another folder builds from it (0 submits, the same ZIP), plan
# counts it; the auth header never shows.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
. "$(dirname "$0")/rcache-lib.sh"
if ! command -v nginx >/dev/null && ! test -x /usr/sbin/nginx; then
	test_skip 'a team cache on nginx' 'nginx is not installed (tests/deps.sh installs it)'
	test_done
fi
start_fake || exit 1
start_nginx || exit 1
export FAL_KEY=$FAL_TEST_KEY

# packaged DIR: the tiny recipe (two fal images), captioned and zipped
packaged() {
	tiny "$1" &&
	printf "caption: {}\npackage: { format: fal-zip, size: 512, out: dist/tiny.zip }\n" \
		>>"$1/recipe.yaml"
}

test_expect_success 'a paid build uploads each image and its record' '
	packaged a &&
	lm a/recipe.yaml >out-a 2>err-a &&
	grep "^5 nodes built" out-a &&
	test "$(fake_stat "d[\"submits_total\"]")" = 2 &&
	grep "^remote cache: 0 hits, 2 misses, 2 uploaded$" err-a &&
	test "$(ls nginx/cache/ac | wc -l)" = 2 &&
	test "$(ls nginx/cache/cas | wc -l)" = 2 &&
	for r in nginx/cache/ac/*; do
		head -1 "$r" | grep -qx "loramake action v1" || return 1
	done
'
test_expect_success 'plan of a fresh copy shows both images remote, at $0' '
	packaged b &&
	lm plan b/recipe.yaml >plan 2>plan-err &&
	test "$(grep -c " remote .*in the remote cache" plan)" = 2 &&
	grep "^estimated cost \$0.00" plan &&
	grep ", 2 remote (\$0, from $CACHE_URL)" plan &&
	lm plan --json b/recipe.yaml >plan.json 2>>plan-err &&
	python3 -c "import json,sys; d=json.load(open(\"plan.json\")); t=d[\"totals\"]; assert t[\"remote\"] == 2 and t[\"cost_usd\"] == 0, t" &&
	test ! -s plan-err
'
test_expect_success 'the fresh copy builds from the cache: no submit, the same ZIP' '
	lm -v b/recipe.yaml >out-b 2>err-b &&
	grep "^5 nodes built in .*, \$0.00 spent, 0 failed" out-b &&
	test "$(fake_stat "d[\"submits_total\"]")" = 2 &&
	grep "^remote cache: 2 hits, 0 misses, 0 uploaded$" err-b &&
	grep "angle/front (remote cache" err-b &&
	cmp a/dist/tiny.zip b/dist/tiny.zip &&
	check_pngs b/.loramake/objects
'
test_expect_success 'a remote hit is in the lock like a local one' '
	grep "^node angle/" a/recipe.lock | sed "s/ facets=.*//" >lock-a &&
	grep "^node angle/" b/recipe.lock | sed "s/ facets=.*//" >lock-b &&
	cmp lock-a lock-b &&
	lm b/recipe.yaml >again 2>again-err &&
	grep "^nothing to do" again
'
test_expect_success 'the auth header value is in no output or file' '
	no_secret "team-SECRET-987" out-a err-a plan plan.json out-b err-b a b
'
test_done
