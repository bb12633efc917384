#!/bin/sh
# Run every test: the cmocka unit tests (as TAP), the fakes' self-tests
# (tests/fake/test_*.py), and the CLI tests in tests/cli/. Ends with one summary line,
# "N passed, N failed", and exits non-zero if anything failed.
#
#   LORAMAKE   the loramake binary to test (make check sets the ASan one)
#   UNIT_DIR   folder of unit test binaries
#   ONLY       run only CLI scripts whose name contains this
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export LORAMAKE=${LORAMAKE:-$top/loramake}
UNIT_DIR=${UNIT_DIR:-$top/obj-san/tests}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}
export CMOCKA_MESSAGE_OUTPUT=tap
export PYTHONDONTWRITEBYTECODE=1
passed=0
failed=0
log=$(mktemp)
skips=$(mktemp)

count() { # count TAP lines of $log into passed/failed; list the skipped
	p=$(grep '^ok ' "$log" | grep -vc ' # SKIP ')
	f=$(grep -c '^not ok ' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
	grep '^ok .* # SKIP ' "$log" | sed 's/^ok - //' >>"$skips"
}

if [ -z "${ONLY:-}" ]; then
	for t in "$UNIT_DIR"/test_*; do
		[ -x "$t" ] || continue
		"$t" >"$log" 2>&1
		rc=$?
		grep -E '^(not )?ok ' "$log"
		count
		if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log"; then
			echo "not ok - $(basename "$t") exited $rc"
			tail -20 "$log" | sed 's/^/#   /'
			failed=$((failed + 1))
		fi
		grep -q '^not ok ' "$log" && tail -40 "$log" | grep -v '^ok ' | sed 's/^/#   /'
	done
	for t in "$top"/tests/fake/test_*.py; do
		name=$(basename "$t" .py)
		if python3 "$t" >"$log" 2>&1; then
			echo "ok - fake self-test $name"
			passed=$((passed + 1))
		else
			echo "not ok - fake self-test $name"
			tail -30 "$log" | sed 's/^/#   /'
			failed=$((failed + 1))
		fi
	done
fi

for t in "$top"/tests/cli/t[0-9]*.sh; do
	case $t in *"${ONLY:-}"*) ;; *) continue ;; esac
	sh "$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	count
	name=$(basename "$t" .sh)
	# a script that stops before test_done, or fails with every test ok,
	# is a failure too: nothing may fail unseen
	if ! grep -qE '^(not )?ok ' "$log"; then
		echo "not ok - $name ran no test (exit $rc)"
		failed=$((failed + 1))
	elif ! grep -q "^# $name: [0-9]* passed, [0-9]* failed$" "$log"; then
		echo "not ok - $name stopped before its last test (exit $rc)"
		failed=$((failed + 1))
	elif [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log"; then
		echo "not ok - $name exited $rc"
		failed=$((failed + 1))
	fi
done
rm -f "$log"
if [ -s "$skips" ]; then
	echo "# skipped (neither passed nor failed):"
	sed 's/^/#   /' "$skips"
fi
rm -f "$skips"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
