#!/bin/sh
# t3410: an edit of the identity gate's min: alone takes effect at once,
# with no call: the verdicts are cached, only the threshold changed, so
# the plan shows the package to make again and the build repackages
# (images that now pass go in, those that now fail go out), rewrites the
# gate lines' pass|fail and says which verdicts turned; the next build
# has nothing to do.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gemini-lib.sh"
start_gemini --job-ms 20 || exit 1
export GEMINI_API_KEY=$GEMINI_TEST_KEY

# in_package DIR ID: the package's manifest lists image ID
in_package() {
	python3 - "$1" "$2" <<-'PY'
	import glob, json, sys
	m = json.load(open(glob.glob(sys.argv[1] + "/dist/gem/manifest.json")[0]))
	sys.exit(0 if any(f["node"] == sys.argv[2] for f in m["files"]) else 1)
	PY
}
# calls: what the fake was asked, generations and gate calls
calls() { echo "$(fake_stat "d[\"generated\"]") $(fake_stat "d[\"gate_calls\"]")"; }

test_expect_success 'setup: six images judged, back and left failed at 0.35' '
	gem_recipe g &&
	printf "gate: { engine: gem, against: hero, min: 0.7 }\n" >>g/recipe.yaml &&
	fake_control "{\"gate_fail\": [\"woman, back,\", \"woman, left,\"]}" &&
	lm g/recipe.yaml >out 2>err &&
	test "$(calls)" = "6 6" &&
	grep -E "^gate angle/back [0-9a-f]{16} fail 0.35 " g/recipe.lock &&
	! in_package g angle/back && ! in_package g angle/left && in_package g angle/front
'
test_expect_success 'min: lowered: the plan shows the package to make again, no call' '
	sed -i "s/min: 0.7/min: 0.3/" g/recipe.yaml &&
	lm plan g/recipe.yaml >plan 2>perr &&
	grep -E "^package +package .* stale" plan &&
	grep -E "^1 job to run" plan &&
	! grep -E "^(gate|angle)/[a-z]+ .* (new|stale)" plan &&
	grep -E "^estimated cost \\\$0.00" plan
'
test_expect_success 'min: lowered: the build repackages at once, the failed images in, no call' '
	lm g/recipe.yaml >out2 2>err2 &&
	test "$(calls)" = "6 6" &&
	grep -E "^gate: angle/back passes now \(0.35 >= 0.30\)$" out2 &&
	grep -E "^gate: angle/left passes now \(0.35 >= 0.30\)$" out2 &&
	grep -E "^1 node built in .*, \\\$0.00 spent, 0 failed$" out2 &&
	grep -E "^gate angle/back [0-9a-f]{16} pass 0.35 jaw wider; eyes soft; head turned to camera on a back view$" g/recipe.lock &&
	grep -E "^gate angle/left [0-9a-f]{16} pass 0.35 jaw wider; eyes soft$" g/recipe.lock &&
	in_package g angle/back && in_package g angle/left && in_package g angle/front &&
	lm g/recipe.yaml >out3 2>err3 &&
	grep "^nothing to do" out3
'
test_expect_success 'min: raised over a passing score: that image out at once, check agrees' '
	sed -i "s/min: 0.3/min: 0.95/" g/recipe.yaml &&
	lm g/recipe.yaml >out4 2>err4 &&
	test "$(calls)" = "6 6" &&
	grep -E "^gate: angle/front failed \(0.92 < 0.95\): -$" out4 &&
	grep -E "^gate angle/front [0-9a-f]{16} fail 0.92 -$" g/recipe.lock &&
	! in_package g angle/front && ! in_package g angle/back &&
	{ lm check g/recipe.yaml >check || test $? = 1; } &&
	grep -E "^  warn  identity +6 of 6 judged, 6 failed \(under 0.95\)" check
'
test_expect_success 'the key appears nowhere' '
	no_secret "$GEMINI_TEST_KEY" .
'
test_done
