#!/bin/sh
# t2610: the action log and the stamp as crashes and accidents leave them:
# a log header of another version or damaged is rewritten (not ignored
# on every build), an append after a torn last line starts a fresh line,
# and a stamp is trusted only whole.
. "$(dirname "$0")/lib.sh"

log=quickstart/.loramake/actions

test_expect_success 'setup: the quickstart, built' '
	copy_recipe quickstart &&
	lm quickstart >out 2>err &&
	grep "dataset:" out &&
	cp "$log" built.actions
'
test_expect_success 'a log header of another version is rewritten once, and said so' '
	sed -i "1s/v1/v9/" "$log" &&
	lm quickstart >out 2>err &&
	grep "a log of another format (v9; this loramake writes v1): starting it over" err &&
	head -1 "$log" | grep -qx "# loramake actions v1" &&
	lm quickstart >out 2>err &&
	grep "nothing to do" out &&
	! grep -q "another format" err
'
test_expect_success 'a log header damaged by one byte keeps its records' '
	cp built.actions "$log" && sed -i "1s/actions/actionz/" "$log" &&
	touch quickstart/recipe.yaml &&
	lm quickstart >out 2>err &&
	grep "its header is damaged or missing: rewrote it with the .* records it holds" err &&
	grep "nothing to do" out &&
	cmp "$log" built.actions
'
test_expect_success 'an append after a torn last line starts on a fresh line' '
	printf "0123456789abcdef0123456789abcdef\tdead" >>"$log" &&
	sed -i "s/DO NOT generate a new face/DO NOT make a new face/" quickstart/recipe.yaml &&
	lm quickstart >out 2>err &&
	grep "nodes\{0,1\} built" out &&
	grep -qx "0123456789abcdef0123456789abcdef	dead" "$log" &&
	sed -n "/^0123456789abcdef0123456789abcdef	dead\$/,\$p" "$log" | sed 1d >appended &&
	test -s appended &&
	awk -F "	" "NF != 5 { bad = 1 } END { exit bad }" appended
'
test_expect_success 'a stamp cut right after its say line is not trusted' '
	lm quickstart >out 2>err && grep "nothing to do" out &&
	stamp=quickstart/.loramake/stamp-recipe.yaml &&
	sed -i "/^stat /,\$d;/^absent /,\$d" "$stamp" &&
	tail -1 "$stamp" | grep "^say " &&
	cp quickstart/build/angle/front.png quickstart/hero.png &&
	lm quickstart >out 2>err &&
	! grep -q "nothing to do" out &&
	grep "nodes\{0,1\} built" out
'
test_done
