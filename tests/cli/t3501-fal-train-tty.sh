#!/bin/sh
# t3501: a training at a terminal (tests/cli/pty_drive.py types as a
# person would): the trainer's last log line on the status line while it
# polls, its controls escaped (a hostile trainer's escape sequences never
# reach the terminal); Ctrl-C asks before cancelling the training: "n"
# (or Enter) leaves it running, journaled, and the rerun resumes it; "y"
# cancels it through the queue's cancel URL and the rerun trains anew.
# Without a terminal Ctrl-C never asks and never cancels (t3011).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 50 || exit 1
export FAL_KEY=$FAL_TEST_KEY
TR=fal-ai/flux-lora-fast-training

recipe() {
	mkdir -p "$1" && cp "$SRC/recipes/jinx/keystones/hero.png" "$1/a.png" &&
	cp "$SRC/tests/data/images/scene.png" "$1/b.png" &&
	cat >"$1/recipe.yaml" <<-EOF2
	loramake: 1
	name: tt
	trigger: TTCHAR
	target: flux
	engines:
	  fal: { type: fal, url: "$FAKE_URL" }
	anchor:
	  items:
	    a: { file: a.png, caption: "smiling" }
	    b: { file: b.png, caption: "in a park" }
	package: { format: fal-zip }
	train: { steps: 1400 }
	EOF2
}

trainings() { fake_stat "d[\"submits_by_endpoint\"].get(\"$TR\", 0)"; }
drive() { python3 "$SRC/tests/cli/pty_drive.py" "$@"; }
ESC=$(printf '\033')

test_expect_success 'the trainer log on the status line, escaped; Ctrl-C then n leaves it running' '
	recipe r &&
	lm r/recipe.yaml >out 2>err &&
	fake_control "{\"train_ms\": 60000, \"train_log\": \"\\u001b]0;owned\\u0007 \\u001b[31mloss 0.12\"}" &&
	expect_exit 130 drive tty.log 120 \
		"train/tt .*x1b\\]0;owned.x07 .x1b\\[31mloss 0\\.12" "^C" \
		"Cancel it\\? \\[y/N\\] " "n" \
		-- "$LORAMAKE" r/recipe.yaml train &&
	grep -q "train/tt .*\\\\x1b\\]0;owned\\\\x07 \\\\x1b\\[31mloss 0.12" tty.log &&
	! grep -q "$ESC\\]0;owned" tty.log &&
	! grep -q "$ESC\\[31m" tty.log &&
	grep -q "the next build resumes it" tty.log &&
	test "$(trainings)" = 1 &&
	test "$(fake_stat "d[\"cancels\"]")" = 0 &&
	fake_control "{\"release_ms\": 100, \"train_ms\": 300, \"train_log\": \"\"}" &&
	lm r/recipe.yaml train >out2 2>err2 &&
	test "$(trainings)" = 1 &&
	grep "came from requests an earlier build submitted" err2 &&
	test -f r/build/train/tt.safetensors
'
test_expect_success 'Ctrl-C then y cancels the training at fal; the rerun trains anew' '
	sed -i "s/steps: 1400/steps: 1500/" r/recipe.yaml &&
	fake_control "{\"train_ms\": 60000}" &&
	expect_exit 130 drive tty2.log 120 \
		"train/tt .*step [0-9]+/1500" "^C" \
		"Cancel it\\? \\[y/N\\] " "y" \
		-- "$LORAMAKE" r/recipe.yaml train &&
	grep -q "cancelling train/tt" tty2.log &&
	test "$(trainings)" = 2 &&
	test "$(fake_stat "d[\"cancels\"]")" = 1 &&
	fake_control "{\"train_ms\": 300}" &&
	lm r/recipe.yaml train >out3 2>err3 &&
	test "$(trainings)" = 3 &&
	test -f r/build/train/tt.safetensors
'
test_expect_success 'no output or file shows the key' '
	no_secret "$FAL_KEY" out err out2 err2 out3 err3 tty.log tty2.log r "$TRASH/fake.log"
'
test_done
