# lib.sh: sourced by every tests/cli/tNNNN-*.sh script (git's t/ style).
#
#   . "$(dirname "$0")/lib.sh"
#   test_expect_success 'second build runs nothing' '
#       lm --engine preview recipe.yaml >out &&
#       grep "nothing to do" out
#   '
#   test_done
#
# Each script gets one fresh trash folder ($TRASH); every test body runs
# there in a subshell with `set -e`. $SRC is the repository, $LORAMAKE the
# binary under test (lm runs it). A body that fails prints its output.
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

# copy_recipe NAME: copy recipes/NAME into the trash folder.
copy_recipe() {
	cp -r "$SRC/recipes/$1" "$TRASH/$1" &&
	rm -rf "$TRASH/$1/.loramake" "$TRASH/$1/build" "$TRASH/$1/dist" "$TRASH/$1"/*.lock
}

test_expect_success() {
	_title=$1
	_body=$2
	_out=$( (cd "$TRASH" && set -e && eval "$_body") 2>&1 )
	if [ $? -eq 0 ]; then
		_passed=$((_passed + 1))
		echo "ok - $TEST_NAME: $_title"
	else
		_failed=$((_failed + 1))
		echo "not ok - $TEST_NAME: $_title"
		printf '%s\n' "$_out" | tail -40 | sed 's/^/#   /'
	fi
}

test_done() {
	eval "$_cleanups"
	echo "# $TEST_NAME: $_passed passed, $_failed failed"
	[ "$_failed" -eq 0 ] && rm -rf "$TRASH"
	[ "$_failed" -eq 0 ]
	exit $?
}
