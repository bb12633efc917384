#!/bin/sh
# t3702: a downloaded image cut short under a Content-Length that matches
# it (the fake's cut_files: half the PNG, its header saying so) is
# downloaded again from the output URL, not failed at the cache's decode:
# the prediction is paid for. Bounded: a file cut every time fails the
# node after the core's tries, with nothing broken cached and nothing
# submitted twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/replicate-lib.sh"
start_replicate --job-ms 50 || exit 1
export REPLICATE_API_TOKEN=$REPLICATE_TEST_KEY

one_image() {
	mkdir -p "$1" &&
	cat >"$1/recipe.yaml" <<-EOF2
	loramake: 1
	name: cut
	trigger: CUT
	target: flux
	engines:
	  rep: { type: replicate, url: "$FAKE_URL" }
	anchor:
	  engine: rep
	  model: black-forest-labs/flux-dev
	  items:
	    front: { prompt: "$2" }
	EOF2
}

test_expect_success 'an image cut twice is downloaded a third time; one prediction, the node built' '
	one_image r1 "a woman, front view" &&
	fake_control "{\"cut_files\": 2}" &&
	lm -v r1/recipe.yaml >out 2>err &&
	grep -E "^1 node built in .*, 0 failed$" out &&
	test "$(grep -c "^replicate: anchor/front: GET $FAKE_URL/files/.*: 200$" err)" = 3 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 1 &&
	test "$(fake_stat "d[\"faults\"][\"truncate\"]")" = 2 &&
	check_pngs r1/.loramake/objects
'
test_expect_success 'an image cut every time fails the node after the tries: nothing cached, one prediction' '
	one_image r2 "a woman, side view" &&
	fake_control "{\"cut_files\": 100}" &&
	expect_exit 1 lm r2/recipe.yaml >out2 2>err2 &&
	grep -q "anchor/front: .*download failed [0-9]* times, last: image cut short" err2 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 2 &&
	! grep -q "^node anchor/front" r2/recipe.lock 2>/dev/null &&
	fake_control "{\"cut_files\": 0}"
'
test_expect_success 'the rebuild downloads the paid prediction again, it does not pay anew' '
	lm r2/recipe.yaml >out3 2>err3 &&
	grep -E "^1 node built in .*, 0 failed$" out3 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 2
'
test_done
