#!/bin/sh
# t3601: the team cache on bazel-remote's HTTP API (tests/fake/
# bazel_remote_fake.py enforces what it enforces: 64-hex SHA-256 names,
# each CAS upload's bytes hashing to its name, an ActionResult under /ac/
# unless --disable_http_ac_validation, a result whose blobs are gone is
# not found): a paid build fills it with no request refused, a fresh copy
# builds from it (0 submits, the same ZIP), plan counts it; a record whose
# objects the server lost is a miss; the same without AC validation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
. "$(dirname "$0")/rcache-lib.sh"
start_fake || exit 1
start_bazel_remote --disable_http_ac_validation || exit 1
RAW_URL=$BAZEL_URL
start_bazel_remote || exit 1
test "$RAW_URL" != "$BAZEL_URL" || exit 1
export FAL_KEY=$FAL_TEST_KEY
export LORAMAKE_REMOTE_CACHE=$BAZEL_URL
unset LORAMAKE_REMOTE_CACHE_HEADER

packaged() {
	tiny "$1" &&
	printf "caption: {}\npackage: { format: fal-zip, size: 512, out: dist/tiny.zip }\n" \
		>>"$1/recipe.yaml"
}

# refused: how many requests bazel-remote answered with 4xx/5xx other
# than a miss (404)
refused() {
	bazel_stat "sum(1 for m, p, s in d[\"requests\"] if s >= 400 and s != 404)"
}

test_expect_success 'a paid build fills bazel-remote: SHA-256 names, nothing refused' '
	packaged a &&
	lm a/recipe.yaml >out-a 2>err-a &&
	grep "^5 nodes built" out-a &&
	grep "^remote cache: 0 hits, 2 misses (0 refused), 2 uploaded$" err-a &&
	! grep "going on without it" err-a &&
	test "$(refused)" = 0 &&
	test "$(bazel_stat "d[\"counts\"].get(\"PUT cas 200\")")" = 2 &&
	test "$(bazel_stat "d[\"counts\"].get(\"PUT ac 200\")")" = 2 &&
	test "$(bazel_stat "d[\"ac\"], d[\"cas\"]")" = "2 2"
'
test_expect_success 'plan of a fresh copy counts both images remote (HEAD on validated results)' '
	packaged b &&
	lm plan b/recipe.yaml >plan 2>plan-err &&
	test "$(grep -c " remote .*in the remote cache" plan)" = 2 &&
	grep "^estimated cost \$0.00" plan &&
	test ! -s plan-err &&
	test "$(bazel_stat "d[\"counts\"].get(\"HEAD ac 200\")")" = 2
'
test_expect_success 'the fresh copy builds from bazel-remote: no submit, the same ZIP' '
	lm b/recipe.yaml >out-b 2>err-b &&
	grep "^5 nodes built in .*, \$0.00 spent, 0 failed" out-b &&
	test "$(fake_stat "d[\"submits_total\"]")" = 2 &&
	grep "^remote cache: 2 hits, 0 misses (0 refused), 0 uploaded$" err-b &&
	cmp a/dist/tiny.zip b/dist/tiny.zip &&
	test "$(refused)" = 0
'
test_expect_success 'a result whose object bazel-remote lost is a miss: the node runs, and is uploaded again' '
	front=$(grep "^node angle/front " a/recipe.lock | sed "s/.* out=\([0-9a-f]*\) .*/\1/") &&
	wire=$(object_sha256 a "$front") &&
	curl --noproxy "*" -sf -d "{\"drop_cas\": \"$wire\"}" "$BAZEL_URL/_control" >/dev/null &&
	packaged c &&
	lm c/recipe.yaml >out-c 2>err-c &&
	grep "^5 nodes built" out-c &&
	test "$(fake_stat "d[\"submits_total\"]")" = 3 &&
	grep "^remote cache: 1 hit, 1 miss (0 refused), 1 uploaded$" err-c &&
	test "$(refused)" = 0
'
test_expect_success 'with --disable_http_ac_validation: the same fill and pull' '
	BAZEL_URL=$RAW_URL &&
	export LORAMAKE_REMOTE_CACHE=$RAW_URL &&
	packaged a2 && packaged b2 &&
	lm a2/recipe.yaml >out-a2 2>err-a2 &&
	grep "^remote cache: 0 hits, 2 misses (0 refused), 2 uploaded$" err-a2 &&
	lm b2/recipe.yaml >out-b2 2>err-b2 &&
	grep "^remote cache: 2 hits, 0 misses (0 refused), 0 uploaded$" err-b2 &&
	cmp a2/dist/tiny.zip b2/dist/tiny.zip &&
	test "$(refused)" = 0 &&
	test "$(bazel_stat "d[\"ac\"], d[\"cas\"]")" = "2 2"
'
test_done
