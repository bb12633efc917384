#!/bin/sh
# t1100: what a recipe can cost the machine that compiles it. Checks are
# linear (80,000 items compile in seconds, as a mapping or as a one-line
# list), and a small recipe whose sections multiply past DAG_MAX_NODES is
# one error naming them, found before the memory is spent.
. "$(dirname "$0")/lib.sh"

head_yaml() {
	printf "loramake: 1\nname: x\ntrigger: ZQXCHAR\ntarget: flux2\n" &&
	printf "engines: { gen: { type: preview } }\ncharacter: { prompt: a fox }\n" &&
	printf "anchor:\n  engine: gen\n"
}

test_expect_success '80,000 anchor items as a mapping plan in seconds' '
	{ head_yaml && echo "  items:" && seq 0 79999 | sed "s/.*/    i&: pose &/"; } >map.yaml &&
	timeout 60 "$LORAMAKE" plan map.yaml >plan 2>err &&
	grep "^80000 jobs to run" plan
'
test_expect_success '80,000 anchor items as a one-line list plan in seconds' '
	{ head_yaml && printf "  items: [%s]\n" "$(seq 0 79999 | sed "s/.*/i&/" | paste -sd, -)"; } >list.yaml &&
	test "$(wc -l <list.yaml)" = 9 &&
	timeout 60 "$LORAMAKE" plan list.yaml >plan 2>err &&
	grep "^80000 jobs to run" plan
'
test_expect_success 'a duplicate among them is still named, with the first' '
	{ head_yaml && echo "  items:" && seq 0 79999 | sed "s/.*/    i&: pose &/" &&
	  echo "    i17: again"; } >dup.yaml &&
	expect_exit 2 timeout 60 "$LORAMAKE" plan dup.yaml 2>err &&
	grep "^dup.yaml:80010:5: error: duplicate key .i17. in anchor items" err &&
	grep "^dup.yaml:27:5: note: first set here" err
'
test_expect_success 'a 2 KB recipe that multiplies past 100,000 nodes is an error naming the sections' '
	{ head_yaml && echo "  count: 20" && echo "  items:" &&
	  seq 0 49 | sed "s/.*/    a&: pose &/" &&
	  printf "expression:\n  engine: gen\n  items:\n" && seq 0 59 | sed "s/.*/    e&: mood &/" &&
	  printf "environment:\n  engine: gen\n  rotate: [{ place: beach, light: sun }]\ncaption: {}\n"; } >mult.yaml &&
	test "$(wc -c <mult.yaml)" -lt 2300 &&
	expect_exit 2 timeout 60 "$LORAMAKE" plan mult.yaml >out 2>err &&
	grep "error: the recipe expands to more than 100000 nodes (so far: anchor 1000, expression 60000, environment 39001, while expanding environment); the sections multiply: anchor makes count: images of each item; expression makes each of its items from every image above it (apply: limits which); environment edits every image above it" err &&
	test "$(grep -c error: err)" = 1
'
test_done
