#!/bin/sh
# t1000: every malformed recipe in tests/bad/ is refused with one located
# error and exit 2, never a crash (docs/diagnostics.md).
#
# tests/bad/NAME.yaml is a broken recipe; tests/bad/NAME.err holds the
# first line of stderr that `loramake plan NAME.yaml` must print, run from
# inside the folder, so the golden line reads "NAME.yaml:LINE:COL: error: ...".
# The folder is copied to the trash folder first: plan may not touch the
# source tree, and the symlink case is made there at run time.
. "$(dirname "$0")/lib.sh"

BAD=$TRASH/bad
cp -R "$SRC/tests/bad" "$BAD"
# path-symlink.yaml names escape.png, a link that leads out of the folder
echo 'not an image' >"$TRASH/outside.png"
ln -s ../outside.png "$BAD/escape.png"

# check_bad NAME: plan NAME.yaml fails as NAME.err says, cleanly.
check_bad() {
	_n=$1
	_out=$TRASH/$_n.stdout
	_err=$TRASH/$_n.stderr
	_first=$TRASH/$_n.first
	_rc=0
	cd "$BAD" || return 1
	lm plan "$_n.yaml" >"$_out" 2>"$_err" || _rc=$?
	head -n 1 "$_err" >"$_first" || return 1
	if grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$_err" >/dev/null; then
		echo "sanitizer report:"
		cat "$_err"
		return 1
	fi
	if [ "$_rc" -ne 2 ]; then
		echo "expected exit 2, got $_rc; stderr:"
		cat "$_err"
		return 1
	fi
	if ! grep -E '^[^:]+:[0-9]+:[0-9]+: error: ' "$_first" >/dev/null; then
		echo "first line is not FILE:LINE:COL: error: ...; stderr:"
		cat "$_err"
		return 1
	fi
	if [ "$(grep -c ': error: ' "$_err")" -ne 1 ]; then
		echo "expected one error; stderr:"
		cat "$_err"
		return 1
	fi
	if ! diff -u "$SRC/tests/bad/$_n.err" "$_first"; then
		echo "stderr:"
		cat "$_err"
		return 1
	fi
}

for _yaml in "$SRC"/tests/bad/*.yaml; do
	_name=$(basename "$_yaml" .yaml)
	test_expect_success "$_name" "check_bad $_name"
done

test_done
