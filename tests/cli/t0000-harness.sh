#!/bin/sh
# t0000: the test harness itself. A body fails on any failing command, not
# only the last of its && chain: a failing middle command, a broken chain, a
# failure inside an if; a failing test prints what the body wrote to files;
# chainlint.py finds what the run cannot (a helper's broken chain, a loop
# without `|| return 1`, loramake in a pipe); every script here passes it.
. "$(dirname "$0")/lib.sh"

# run_sample: run sample.sh (written by the test) beside a copy of lib.sh.
run_sample() {
	mkdir -p tree/tests/cli &&
	cp "$SRC/tests/cli/lib.sh" tree/tests/cli/ &&
	cp sample.sh tree/tests/cli/t9999-sample.sh &&
	{ sh tree/tests/cli/t9999-sample.sh >sample.out 2>&1 || true; } &&
	cat sample.out
}

test_expect_success 'a failing middle command of an && chain fails the test' '
	cat >sample.sh <<-\EOF &&
	. "$(dirname "$0")/lib.sh"
	test_expect_success "middle" "
		true &&
		false &&
		true
	"
	test_done
	EOF
	run_sample &&
	grep "^not ok - .*: middle (exit 1)$" sample.out &&
	grep "^# .*: 0 passed, 1 failed$" sample.out
'
test_expect_success 'a body whose chain is broken by a newline is not ok' '
	cat >sample.sh <<-\EOF &&
	. "$(dirname "$0")/lib.sh"
	test_expect_success "broken" "
		true &&
		false
		true
	"
	test_done
	EOF
	run_sample &&
	grep "^not ok - .*: broken$" sample.out &&
	grep "^#   broken && chain" sample.out
'
test_expect_success 'a failing command inside an if of the body is not ok' '
	cat >sample.sh <<-\EOF &&
	. "$(dirname "$0")/lib.sh"
	test_expect_success "in an if" "
		true &&
		if true; then
			false
			true
		fi
	"
	test_done
	EOF
	run_sample &&
	grep "^not ok - .*: in an if (exit 1)$" sample.out
'
test_expect_success 'a passing body is ok, and its output is not shown' '
	cat >sample.sh <<-\EOF &&
	. "$(dirname "$0")/lib.sh"
	test_expect_success "fine" "
		echo hidden &&
		true
	"
	test_done
	EOF
	run_sample &&
	grep "^ok - .*: fine$" sample.out &&
	! grep hidden sample.out
'
test_expect_success 'a failing test prints its output and the files it wrote' '
	cat >sample.sh <<-\EOF &&
	. "$(dirname "$0")/lib.sh"
	test_expect_success "wrote" "
		echo on-stdout &&
		echo the-reason >err &&
		false
	"
	test_done
	EOF
	run_sample &&
	grep "^#   on-stdout$" sample.out &&
	grep "^#   --- err (last lines)$" sample.out &&
	grep "^#   the-reason$" sample.out
'
test_expect_success 'chainlint finds a helper without &&, a loop without return, lm in a pipe' '
	cat >sample.sh <<-\EOF &&
	helper() {
		false
		true
	}
	test_expect_success "loop" "
		for f in a b; do
			test -e \$f
		done &&
		lm --version | grep loramake &&
		! lm plan x.yaml
	"
	EOF
	{ python3 "$SRC/tests/chainlint.py" sample.sh >lint.out || test $? = 1; } &&
	cat lint.out &&
	grep "^sample.sh:2: not joined to the next command by &&: false$" lint.out &&
	grep "^sample.sh:6: a failing command inside this loop" lint.out &&
	grep "^sample.sh:9: loramake.s status is lost in a pipe" lint.out &&
	grep "^sample.sh:10: .! lm. passes when loramake crashes" lint.out
'
test_expect_success 'every CLI test script passes chainlint' '
	python3 "$SRC/tests/chainlint.py" "$SRC"/tests/cli/t*.sh "$SRC/tests/cli/fal-lib.sh"
'
test_done
