# lib.sh: sourced by every tests/cli/tNNNN-*.sh script (git's t/ style).
#
#   . "$(dirname "$0")/lib.sh"
#   test_expect_success 'second build runs nothing' '
#       lm --engine preview recipe.yaml >out &&
#       grep "nothing to do" out
#   '
#   test_done
#
# Each script gets one fresh trash folder ($TRASH). $SRC is the repository,
# $LORAMAKE the binary under test (lm runs it).
#
# Every command of a body counts. A body is an && chain (a loop's body ends
# `|| return 1`); test_expect_success checks that in two ways:
#   - chain lint (git's test-lib): the body is first run behind `(exit 117) &&`.
#     A whole chain stops there and yields 117; a line that does not end in
#     && runs what follows it, and the test fails as a broken chain.
#   - the body then runs as a shell function under `set -e`, in a
#     subshell whose status is not tested (`set -e` is ignored inside any
#     command whose status is tested, e.g. `( ... ) || x`), output to a file.
# tests/chainlint.py checks the same statically, also inside loops, ifs and
# the scripts' own helper functions. A failing test prints the body's
# output and the tail of every text file the body wrote, so a command that
# sent its output to a file still shows it.
set -u
: "${LORAMAKE:?LORAMAKE must name the loramake binary (see tests/run.sh)}"
TEST_NAME=$(basename "$0" .sh)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/lm-$TEST_NAME.XXXXXX")
export NO_COLOR=1
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$SRC/tests/lsan.supp:print_suppressions=0}
unset FAL_KEY REPLICATE_API_TOKEN GEMINI_API_KEY
_passed=0
_failed=0
_skipped=0
_cleanups=""

lm() { "$LORAMAKE" "$@"; }

# expect_exit CODE CMD...: run CMD, fail unless it exits CODE.
expect_exit() {
	_want=$1
	shift
	"$@" && _got=0 || _got=$?
	if [ "$_got" -ne "$_want" ]; then
		echo "expected exit $_want, got $_got from: $*" >&2
		return 1
	fi
}

# at_exit CMD: run CMD when the script ends (stop servers, ...).
at_exit() { _cleanups="$_cleanups
$1"; }

# wait_for CMD: up to 30 s for the shell command CMD to succeed.
wait_for() {
	for _i in $(seq 1 300); do
		eval "$1" && return 0
		sleep 0.1
	done
	echo "timed out waiting for: $1" >&2
	return 1
}

# lines_in FILE: how many lines FILE has; 0 if it does not exist (yet).
lines_in() {
	if [ -e "$1" ]; then
		wc -l <"$1"
	else
		echo 0
	fi
}

# signal_build SIG PID: send SIG to the loramake this test started as PID,
# only if PID is that build still (its binary, in the trash folder): a
# build that already ended has freed its PID for another program, maybe
# another test's build, which a blind kill would stop.
signal_build() {
	_exe=$(readlink "/proc/$2/exe" 2>/dev/null) || _exe=
	_cwd=$(readlink "/proc/$2/cwd" 2>/dev/null) || _cwd=
	case $_exe:$_cwd in
	"$(readlink -f "$LORAMAKE")":"$TRASH"*) kill "-$1" "$2" ;;
	*)
		echo "process $2 is not this test's build (ended already?): $_exe in $_cwd" >&2
		return 1
		;;
	esac
}

# copy_recipe NAME: copy recipes/NAME into the trash folder.
copy_recipe() {
	cp -r "$SRC/recipes/$1" "$TRASH/$1" &&
	rm -rf "$TRASH/$1/.loramake" "$TRASH/$1/build" "$TRASH/$1/dist" "$TRASH/$1"/*.lock
}

# _chain_ok BODY: BODY is a whole && chain (see the top of this file).
_chain_ok() {
	_lint=$( (cd "$TRASH" && eval "(exit 117) && $1

echo OK-\$?") 2>&1 </dev/null)
	case $_lint in *OK-117) return 0 ;; esac
	return 1
}

# _run_body BODY: run BODY in the trash folder; its output goes to $_log.
_run_body() {
	(
		cd "$TRASH" || exit 1
		eval "_test_body() {
$1
}" || exit 1
		set -e
		_test_body
	) >"$_log" 2>&1 </dev/null
}

# _text_files: path and mtime of the trash folder's files, but the store,
# build/ and dist/ (file times are too coarse for `find -newer`).
_text_files() {
	find "$TRASH" \( -name .loramake -o -name build -o -name dist \) -prune -o \
		-type f ! -name .test-output ! -name .test-files -printf "%T@ %p\n" | sort
}

# _show_failure: the body's output and the text files it wrote, indented.
_show_failure() {
	{
		tail -60 "$_log"
		_text_files | comm -13 "$_before" - | sort -rn | head -8 |
			while read -r _t _f; do
				grep -Iq . "$_f" 2>/dev/null || continue
				echo "--- ${_f#"$TRASH"/} (last lines)"
				tail -15 "$_f"
			done
	} | sed 's/^/#   /'
}

test_expect_success() {
	_title=$1
	_log=$TRASH/.test-output
	_before=$TRASH/.test-files
	_text_files >"$_before"
	if ! _chain_ok "$2"; then
		_failed=$((_failed + 1))
		echo "not ok - $TEST_NAME: $_title"
		echo "#   broken && chain: a line of the body does not end in &&"
		printf '%s\n' "$_lint" | tail -20 | sed 's/^/#   /'
		rm -f "$_before"
		return 0
	fi
	# not `if _run_body`: that would switch `set -e` off inside it
	_run_body "$2"
	_rc=$?
	if [ "$_rc" -eq 0 ]; then
		_passed=$((_passed + 1))
		echo "ok - $TEST_NAME: $_title"
	else
		_failed=$((_failed + 1))
		echo "not ok - $TEST_NAME: $_title (exit $_rc)"
		_show_failure
	fi
	rm -f "$_log" "$_before"
}

# test_skip TITLE REASON: a test that cannot run here, said so (TAP's
# `# SKIP`); run.sh lists it and counts it neither passed nor failed.
test_skip() {
	_skipped=$((_skipped + 1))
	echo "ok - $TEST_NAME: $1 # SKIP $2"
}

test_done() {
	eval "$_cleanups"
	echo "# $TEST_NAME: $_passed passed, $_failed failed"
	[ "$_failed" -eq 0 ] && rm -rf "$TRASH"
	[ "$_failed" -eq 0 ]
	exit $?
}
