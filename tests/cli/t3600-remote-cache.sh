#!/bin/sh
# t3600: the team cache (docs/remote-cache.md) on a real nginx with WebDAV
# on loopback: a paid build in one folder fills it, a fresh copy of the
# recipe in another folder builds from it (0 submits, the same ZIP), plan
# counts it; what the server alters is refused and rebuilt; a cache that
# is unreachable costs a plan at most its budget, and one stopped during a
# build is one warning; the auth header never shows.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
. "$(dirname "$0")/rcache-lib.sh"
if ! command -v nginx >/dev/null && ! test -x /usr/sbin/nginx; then
	test_skip 'a team cache on nginx' 'nginx is not installed (tests/deps.sh installs it)'
	test_done
fi
start_fake || exit 1
start_nginx || exit 1
# a server that takes connections and never answers, a line in
# silent.conns for each it takes
python3 -c "import socket, sys
s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(64)
print(s.getsockname()[1], flush=True); held = []
while True:
    held.append(s.accept()[0]); print(\"conn\", file=sys.stderr, flush=True)" \
	>"$TRASH/silent.out" 2>"$TRASH/silent.conns" &
_silent=$!
at_exit "kill $_silent 2>/dev/null"
# a blackhole: a port whose accept queue is full (listen(0), two
# connections waiting), so the kernel drops every SYN after them
python3 -c "import signal, socket
s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(0); port = s.getsockname()[1]
held = [socket.socket() for _ in range(2)]
[c.setblocking(False) or c.connect_ex((\"127.0.0.1\", port)) for c in held]
print(port, flush=True); signal.pause()" >"$TRASH/blackhole.out" 2>"$TRASH/blackhole.err" &
_blackhole=$!
at_exit "kill $_blackhole 2>/dev/null"
wait_for "test -s '$TRASH/silent.out' && test -s '$TRASH/blackhole.out'" || exit 1
SILENT_PORT=$(cat "$TRASH/silent.out")
BLACKHOLE_PORT=$(cat "$TRASH/blackhole.out")
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
	grep "^remote cache: 0 hits, 2 misses (0 refused), 2 uploaded$" err-a &&
	test "$(ls nginx/cache/ac | grep -cxE "[0-9a-f]{64}")" = 2 &&
	test "$(ls nginx/cache/cas | grep -cxE "[0-9a-f]{64}")" = 2 &&
	for r in nginx/cache/ac/*; do
		grep -aq "loramake action v1" "$r" || return 1
	done &&
	for o in nginx/cache/cas/*; do
		test "$(sha256sum <"$o" | cut -c1-64)" = "${o##*/}" || return 1
	done &&
	key=$(grep "^node angle/front " a/recipe.lock | sed "s/.* key=\([0-9a-f]*\) .*/\1/") &&
	test -f "nginx/cache/ac/$(printf %s "$key" | sha256sum | cut -c1-64)"
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
	grep "^remote cache: 2 hits, 0 misses (0 refused), 0 uploaded$" err-b &&
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
test_expect_success 'an object altered on the server is refused, reported, not cached, and rebuilt' '
	front=$(grep "^node angle/front " a/recipe.lock | sed "s/.* out=\([0-9a-f]*\) .*/\1/") &&
	wire=$(object_sha256 a "$front") &&
	chmod u+w "nginx/cache/cas/$wire" &&
	cp "$SRC/recipes/jinx/keystones/hero.png" "nginx/cache/cas/$wire" &&
	bad=$(xxhsum -H2 "nginx/cache/cas/$wire" | cut -d" " -f1) &&
	before=$(fake_stat "d[\"submits_total\"]") &&
	packaged c &&
	lm c/recipe.yaml >out-c 2>err-c &&
	grep "^loramake: remote cache: angle/front: object $front is not what its name says (its bytes hash to $bad): refused, not cached; building it here$" err-c &&
	test "$(grep -c "refused, not cached" err-c)" = 1 &&
	test "$(fake_stat "d[\"submits_total\"]")" = $((before + 1)) &&
	! test -e "c/.loramake/objects/$(echo $bad | cut -c1-2)/$(echo $bad | cut -c3-)" &&
	grep "^remote cache: 1 hit, 1 miss (1 refused), 1 uploaded$" err-c &&
	grep "^5 nodes built" out-c
'
test_expect_success 'an object that hashes to its name but is no image is refused' '
	printf "not an image\n" >junk &&
	j=$(xxhsum -H2 junk | cut -d" " -f1) &&
	jwire=$(sha256sum <junk | cut -c1-64) &&
	cp junk "nginx/cache/cas/$jwire" &&
	line=$(grep "^node angle/back " a/recipe.lock) &&
	key=$(echo "$line" | sed "s/.* key=\([0-9a-f]*\) .*/\1/") &&
	seed=$(echo "$line" | sed "s/.* seed=\([0-9]*\) .*/\1/") &&
	printf "loramake action v1\n%s\t%s\t0\t%s\t-\n" "$key" "$j" "$seed" >text &&
	name=$(printf %s "$key" | sha256sum | cut -c1-64) &&
	chmod u+w "nginx/cache/ac/$name" &&
	encode_ac --text text --object "$j:$jwire:$(wc -c <junk)" >"nginx/cache/ac/$name" &&
	packaged d &&
	lm d/recipe.yaml >out-d 2>err-d &&
	grep "^loramake: remote cache: angle/back: object $j is not an image (.*): refused, not cached; building it here$" err-d &&
	! test -e "d/.loramake/objects/$(echo $j | cut -c1-2)/$(echo $j | cut -c3-)" &&
	grep "^5 nodes built" out-d
'
test_expect_success 'a plan against a cache that never answers, drops SYNs, or refuses, is at most a little slower' '
	packaged p &&
	t0=$(date +%s%N) &&
	lm --remote-cache off plan p/recipe.yaml >p0 2>e0 &&
	t1=$(date +%s%N) &&
	LORAMAKE_REMOTE_CACHE=http://127.0.0.1:$SILENT_PORT lm plan p/recipe.yaml >p1 2>e1 &&
	t2=$(date +%s%N) &&
	LORAMAKE_REMOTE_CACHE=http://127.0.0.1:$(free_port) lm plan p/recipe.yaml >p2 2>e2 &&
	t3=$(date +%s%N) &&
	LORAMAKE_REMOTE_CACHE=https://127.0.0.1:$BLACKHOLE_PORT lm plan p/recipe.yaml >p3 2>e3 &&
	t4=$(date +%s%N) &&
	grep "^loramake: remote cache http://127.0.0.1:$SILENT_PORT: .*; the plan counts nothing from it$" e1 &&
	grep "^loramake: remote cache http://127.0.0.1:[0-9]*: .*; the plan counts nothing from it$" e2 &&
	grep "^loramake: remote cache https://127.0.0.1:$BLACKHOLE_PORT: .*; the plan counts nothing from it$" e3 &&
	test "$(wc -l <e1)" = 1 && test "$(wc -l <e2)" = 1 && test "$(wc -l <e3)" = 1 &&
	grep "^5 jobs to run" p1 && grep "^5 jobs to run" p2 && grep "^5 jobs to run" p3 &&
	echo "plan: $(((t1 - t0) / 1000000)) ms alone, $(((t2 - t1) / 1000000)) ms silent, $(((t3 - t2) / 1000000)) ms refused, $(((t4 - t3) / 1000000)) ms blackhole" &&
	# the budget is 0.6 s; 3 s of slack for a loaded machine (a connect
	# timeout would be 15 s)
	test $(((t2 - t1) - (t1 - t0))) -lt 3800000000 &&
	test $(((t3 - t2) - (t1 - t0))) -lt 3800000000 &&
	test $(((t4 - t3) - (t1 - t0))) -lt 3800000000
'
test_expect_success 'a plan of 9 images against a cache that never answers opens one connection, not 9' '
	packaged w &&
	sed -i "s/framing: medium }/framing: medium, count: 8 }/" w/recipe.yaml &&
	before=$(wc -l <"$TRASH/silent.conns") &&
	LORAMAKE_REMOTE_CACHE=https://127.0.0.1:$SILENT_PORT lm plan w/recipe.yaml >p4 2>e4 &&
	grep "^[0-9]* jobs to run" p4 &&
	grep "^loramake: remote cache https://127.0.0.1:$SILENT_PORT: .*; the plan counts nothing from it$" e4 &&
	wait_for "test \$(wc -l <\"$TRASH/silent.conns\") -gt $before" &&
	test "$(wc -l <"$TRASH/silent.conns")" = $((before + 1))
'
test_expect_success 'a cache the recipe suggests is shown by plan, never used unless named' '
	packaged s &&
	echo "remote_cache: \"$CACHE_URL\"" >>s/recipe.yaml &&
	before=$(wc -l <nginx/access.log) &&
	LORAMAKE_REMOTE_CACHE= lm plan s/recipe.yaml >plan-s 2>plan-s.err &&
	grep "^the recipe suggests the team cache $CACHE_URL; it is used only once you name it: LORAMAKE_REMOTE_CACHE=$CACHE_URL$" plan-s &&
	grep "^5 jobs to run" plan-s &&
	LORAMAKE_REMOTE_CACHE= lm s/recipe.yaml >out-s 2>err-s &&
	test "$(wc -l <nginx/access.log)" = "$before" &&
	! grep "remote cache" err-s &&
	lm plan s/recipe.yaml >plan-s2 2>>plan-s.err &&
	! grep "suggests" plan-s2 &&
	test ! -s plan-s.err
'
test_expect_success 'a suggested cache with a query is a recipe error' '
	packaged q &&
	echo "remote_cache: \"https://cache.example/?token=abc\"" >>q/recipe.yaml &&
	expect_exit 2 lm plan q/recipe.yaml >plan-q 2>plan-q.err &&
	grep "^q/recipe.yaml:[0-9]*:[0-9]*: error: remote_cache: a URL with no query or fragment" plan-q.err &&
	echo "remote_cache: \"http://cache.example\"" >q/recipe.yaml.new &&
	sed "\$d" q/recipe.yaml >q/r && cat q/r q/recipe.yaml.new >q/recipe.yaml &&
	expect_exit 2 lm plan q/recipe.yaml >plan-q 2>plan-q.err &&
	grep "error: remote_cache: refusing plain http" plan-q.err
'
test_expect_success 'nodes made before the cache was named are offered: a HEAD each, the missing uploaded' '
	packaged o &&
	sed -i "s/^    front:/    above:/; s/^    back:/    below:/" o/recipe.yaml &&
	LORAMAKE_REMOTE_CACHE= lm o/recipe.yaml >out-o1 2>err-o1 &&
	grep "^5 nodes built" out-o1 &&
	n0=$(ls nginx/cache/ac | wc -l) &&
	heads=$(grep -c "\"HEAD /ac/" nginx/access.log) &&
	lm o/recipe.yaml >out-o2 2>err-o2 &&
	grep "^nothing to do: all 5 nodes are up to date" out-o2 &&
	grep "^remote cache: 0 hits, 0 misses (0 refused), 2 uploaded$" err-o2 &&
	test "$(grep -c "\"HEAD /ac/" nginx/access.log)" = $((heads + 2)) &&
	test "$(ls nginx/cache/ac | wc -l)" = $((n0 + 2)) &&
	before=$(wc -l <nginx/access.log) &&
	lm o/recipe.yaml >out-o3 2>err-o3 &&
	grep "^nothing to do" out-o3 &&
	test "$(wc -l <nginx/access.log)" = "$before" &&
	packaged o2 &&
	cp o/recipe.yaml o2/recipe.yaml &&
	submits=$(fake_stat "d[\"submits_total\"]") &&
	lm o2/recipe.yaml >out-o4 2>err-o4 &&
	grep "^remote cache: 2 hits, 0 misses (0 refused), 0 uploaded$" err-o4 &&
	test "$(fake_stat "d[\"submits_total\"]")" = "$submits"
'
test_expect_success 'an offer the cache refuses is one warning, and the next build offers again' '
	packaged r &&
	sed -i "s/^    front:/    high:/; s/^    back:/    low:/" r/recipe.yaml &&
	LORAMAKE_REMOTE_CACHE= lm r/recipe.yaml >out-r1 2>err-r1 &&
	LORAMAKE_REMOTE_CACHE_HEADER="Authorization: Bearer wrong" lm r/recipe.yaml >out-r2 2>err-r2 &&
	grep "^nothing to do" out-r2 &&
	grep "^loramake: remote cache $CACHE_URL: HTTP 401; going on without it$" err-r2 &&
	test "$(grep -c "going on without it" err-r2)" = 1 &&
	lm r/recipe.yaml >out-r3 2>err-r3 &&
	grep "^remote cache: 0 hits, 0 misses (0 refused), 2 uploaded$" err-r3
'
test_expect_success 'a build with nothing to run waits at most 2 s for a cache that never answers' '
	t0=$(date +%s%N) &&
	LORAMAKE_REMOTE_CACHE=http://127.0.0.1:$SILENT_PORT lm r/recipe.yaml >out-r4 2>err-r4 &&
	t1=$(date +%s%N) &&
	grep "^nothing to do" out-r4 &&
	grep "^loramake: remote cache http://127.0.0.1:$SILENT_PORT: .*; going on without it$" err-r4 &&
	test "$(grep -c "going on without it" err-r4)" = 1 &&
	echo "no-op build: $(((t1 - t0) / 1000000)) ms" &&
	# 2 s, and slack for a loaded machine (it was the 10 s of a record GET)
	test $((t1 - t0)) -lt 7000000000
'
test_expect_success 'nginx stopped mid-build: the build finishes locally, with one warning' '
	fake_control "{\"reset\": true, \"job_ms\": 60000}" &&
	packaged m &&
	sed -i "s/^    front:/    left:/; s/^    back:/    right:/" m/recipe.yaml &&
	{ lm m/recipe.yaml >out-m 2>err-m & } &&
	pid=$! &&
	wait_for "test \$(fake_stat \"d[\\\"inflight\\\"]\") -ge 2" &&
	stop_nginx &&
	fake_control "{\"job_ms\": 300, \"release_ms\": 0}" &&
	wait $pid &&
	grep "^5 nodes built" out-m &&
	test "$(grep -c "going on without it" err-m)" = 1 &&
	grep "^loramake: remote cache $CACHE_URL: cannot upload (.*); going on without it$" err-m &&
	unzip -tq m/dist/tiny.zip
'
test_expect_success 'the auth header value is in no output or file' '
	no_secret "team-SECRET-987" out-a err-a plan plan.json out-b err-b a b c d m p p0 p1 p2 p3 p4 e0 e1 e2 e3 e4 \
		out-c err-c out-d err-d out-m err-m out-o1 err-o1 out-o2 err-o2 out-r2 err-r2
'
test_done
