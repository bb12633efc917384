#!/bin/sh
# t0001: the command line itself: help, version, bad options, no recipe.
. "$(dirname "$0")/lib.sh"

test_expect_success '--help prints usage and exits 0' '
	lm --help >out && grep "usage: loramake" out
'
test_expect_success '--help says clean keeps the cache, and lists exit 130' '
	lm --help >out &&
	grep "loramake clean RECIPE  *remove build/ and the package$" out &&
	grep "(the cache is kept; see gc)" out &&
	! grep "remove.*the cache" out &&
	grep "130 interrupted" out
'
test_expect_success 'clean does what --help says: build/ and the package go, the cache stays' '
	copy_recipe quickstart &&
	lm quickstart/recipe.yaml >out 2>err &&
	test -d quickstart/build && test -f quickstart/dist/quickstart.zip &&
	lm clean quickstart/recipe.yaml >out 2>err &&
	test ! -e quickstart/build && test ! -e quickstart/dist/quickstart.zip &&
	test -d quickstart/.loramake/objects &&
	lm quickstart/recipe.yaml >out 2>err &&
	grep "^nothing to do: all 37 nodes are up to date$" out &&
	test -f quickstart/dist/quickstart.zip
'
test_expect_success '--version' '
	lm --version >out && grep "^loramake [0-9]" out
'
test_expect_success 'an unknown option exits 2 with a message' '
	expect_exit 2 lm --frobnicate x.yaml 2>err && grep "unknown option" err
'
test_expect_success 'no recipe exits 2' '
	expect_exit 2 lm plan 2>err && grep "which recipe" err
'
test_expect_success 'a missing recipe file exits 2 naming it' '
	expect_exit 2 lm plan nope.yaml 2>err && grep "nope.yaml" err
'
test_expect_success 'explain needs a node id' '
	copy_recipe jinx && expect_exit 2 lm explain jinx/recipe.yaml 2>err
'
test_expect_success 'options may come after the recipe' '
	lm plan jinx/recipe.yaml --engine preview --json >p.json &&
	grep "\"engine\": *\"preview\"" p.json
'
test_expect_success '-j takes a number' '
	expect_exit 2 lm -j zero plan jinx/recipe.yaml 2>err && grep "\-j takes" err
'
test_expect_success 'a folder stands for the recipe.yaml in it' '
	lm plan jinx >folder.out && lm plan jinx/recipe.yaml >file.out &&
	cmp folder.out file.out &&
	mkdir empty && expect_exit 2 lm plan empty 2>err &&
	grep "a folder without a recipe.yaml" err
'
test_done
