#!/bin/sh
# t3002: fal failures a user must understand. A 422 (at result, then at
# submit) fails only its node, in the service's words, while the rest
# finishes, and leaves the pending journal (the rebuild submits anew); a
# wrong key (401), a missing key, a custom key_env (once the user allows
# it), plain http to a non-loopback host (a recipe error), a
# content-policy refusal, a model error, and an answer without an image.
# No key ever shows in the output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 100 || exit 1
export FAL_KEY=$FAL_TEST_KEY
MA=fal-ai/qwen-image-edit-2511-multiple-angles

# jinx with a small dataset: three angles, one expression, no upscale
small_jinx() {
	copy_recipe jinx && mv jinx "$1" && use_fake "$1/recipe.yaml" &&
	python3 - "$1/recipe.yaml" <<-'PY'
	import re, sys
	p = sys.argv[1]
	s = open(p).read()
	keep = ("front:", "back:", "profile_left:")
	out, section = [], None
	for line in s.splitlines(True):
	    m = re.match(r"^(\w+):", line)
	    if m:
	        section = m.group(1)
	    if section == "angle" and re.match(r"^    \w+:", line) and \
	       not line.strip().startswith(keep):
	        continue
	    if section == "expression" and re.match(r"^    (tired|focused|wary|furious):", line):
	        continue
	    if section == "upscale":
	        continue
	    out.append(line)
	s = "".join(out)
	s = re.sub(r"apply:.*?(?=\n\S)", "", s, flags=re.S)
	open(p, "w").write(s)
	PY
}

test_expect_success 'a 422 fails only its node, in the service'"'"'s words' '
	small_jinx j1 &&
	sed -i "s|front: *{ caption: \"seen from the front\", framing: medium }|front: { caption: \"seen from the front\", framing: medium, params: { zoom: 42 } }|" j1/recipe.yaml &&
	grep -q "zoom: 42" j1/recipe.yaml &&
	expect_exit 1 lm j1/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: '"'"'$MA'"'"' rejected the request (422): zoom: Input should be less than or equal to 10" err &&
	grep "failed: angle/front: " err &&
	test -f j1/build/angle/back.png && test -f j1/build/angle/profile_left.png &&
	test -f j1/build/expression/back/neutral.png &&
	! test -f j1/build/angle/front.png &&
	! test -e j1/build/expression/front &&
	test "$(fake_stat "d[\"results\"]")" = "$(fake_stat "d[\"submits_total\"]")"
'
test_expect_success 'a rejected request leaves the pending journal: the rebuild submits it anew' '
	grep -q "	1	\$" j1/.loramake/pending &&
	n=$(fake_stat "d[\"submits_total\"]") &&
	expect_exit 1 lm j1/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: .*zoom: Input should be less than or equal to 10" err &&
	! grep "earlier build" err &&
	test "$(fake_stat "d[\"submits_total\"]")" = $((n + 1))
'
test_expect_success 'a fake that forgot the request: submitted anew, 422 at submit' '
	fake_control "{\"reset\": true, \"validate_at_submit\": true}" &&
	expect_exit 1 lm j1/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: '"'"'$MA'"'"' rejected the request (422): zoom: Input should be less than or equal to 10" err &&
	test "$(fake_stat "d[\"rejected_submits\"]")" = 1 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 0 &&
	fake_control "{\"validate_at_submit\": false}"
'
test_expect_success 'a wrong key: 401 at once, named by its variable, never shown' '
	small_jinx j2 &&
	FAL_KEY=sk-WRONG-456 expect_exit 1 lm -v j2/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: fal refused the key in FAL_KEY (401): Invalid API key" err &&
	test "$(fake_stat "d[\"auth_failures\"]")" = 3 &&
	no_secret sk-WRONG-456 out err j2 "$TRASH/fake.log"
'
test_expect_success 'no key: FAL_KEY is not set, and nothing is sent' '
	n=$(fake_stat "sum(d[\"requests_by_kind\"].values())") &&
	(unset FAL_KEY && expect_exit 1 lm j2/recipe.yaml >out 2>err) &&
	grep "engine .fal. needs its API key in \$FAL_KEY, which is not set; nothing was run" err &&
	test "$(fake_stat "sum(d[\"requests_by_kind\"].values())")" = "$n"
'
test_expect_success 'key_env names the variable, once the user allows it' '
	sed -i "s|type: fal, url|type: fal, key_env: MY_FAL_KEY, url|" j2/recipe.yaml &&
	expect_exit 2 lm j2/recipe.yaml >out 2>err &&
	grep "recipe.yaml:[0-9]*:[0-9]*: error: engine '"'"'fal'"'"' would send \$MY_FAL_KEY as its API key, but fal documents FAL_KEY" err &&
	export LORAMAKE_ALLOW_KEY_ENV=MY_FAL_KEY &&
	expect_exit 1 lm j2/recipe.yaml >out 2>err &&
	grep "needs its API key in \$MY_FAL_KEY, which is not set" err &&
	MY_FAL_KEY=$FAL_KEY lm j2/recipe.yaml >out 2>err
'
test_expect_success 'plain http to a non-loopback host is refused, even when the host is allowed' '
	small_jinx j3 &&
	sed -i "s|url: \"[^\"]*\"|url: \"http://fal.example.com:8080/\"|" j3/recipe.yaml &&
	expect_exit 2 lm --allow-host fal.example.com j3/recipe.yaml >out 2>err &&
	grep "recipe.yaml:[0-9]*:[0-9]*: error: engine '"'"'fal'"'"': url: refusing plain http to '"'"'http://fal.example.com:8080'"'"': use https, or a loopback address" err
'
test_expect_success 'a content-policy refusal is shown as the service words it' '
	small_jinx j4 &&
	sed -i "s|back: *{ caption: \"seen from behind\", framing: back }|back: { caption: \"seen from behind\", framing: back, params: { additional_prompt: FORBIDDEN } }|" j4/recipe.yaml &&
	expect_exit 1 lm j4/recipe.yaml >out 2>err &&
	grep "FAILED angle/back: .*(422): additional_prompt: The content could not be processed because it contained material flagged by a content checker" err
'
test_expect_success 'a model error fails the node without retrying the result' '
	small_jinx j5 &&
	fake_control "{\"reset\": true, \"job_fail\": 1}" &&
	expect_exit 1 lm j5/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: '"'"'$MA'"'"' failed: Internal Server Error" err &&
	test "$(fake_stat "d[\"results\"]")" = 3 &&
	fake_control "{\"job_fail\": 0}"
'
test_expect_success 'an answer without an image fails the node clearly' '
	small_jinx j6 &&
	sed -i "s|model: $MA|model: fal-ai/flux-lora-fast-training\n  params: { images_data_url: \"https://example.com/d.zip\" }|" j6/recipe.yaml &&
	expect_exit 1 lm j6/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: '"'"'fal-ai/flux-lora-fast-training'"'"' finished without an image" err
'
test_expect_success 'no output or file shows the key' '
	no_secret "$FAL_KEY" out err j1 j2 j3 j4 j5 j6 "$TRASH/fake.log"
'
test_done
