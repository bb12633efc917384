#!/bin/sh
# make stress (not part of CI): the whole suite STRESS_RUNS times (default
# 5) with two CPU-burning processes beside it, the load under which timing
# assumptions break; then a table of which tests failed in which run.
# Every run's full output is kept in $STRESS_DIR (default a new folder
# under /tmp) for the failures' details. Exits 1 if any run failed.
#
#   LORAMAKE, UNIT_DIR   as for tests/run.sh (make stress sets them)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${STRESS_RUNS:-5}
dir=${STRESS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/lm-stress.XXXXXX")}
mkdir -p "$dir" || exit 2

burn() { while :; do :; done; }
burn & burner1=$!
burn & burner2=$!
trap 'kill $burner1 $burner2 2>/dev/null' EXIT
trap 'exit 130' INT TERM

i=1
while [ "$i" -le "$runs" ]; do
	start=$(date +%s)
	sh "$top/tests/run.sh" >"$dir/run$i.log" 2>&1
	echo "run $i: $(tail -n 1 "$dir/run$i.log") ($(($(date +%s) - start)) s)"
	i=$((i + 1))
done
kill $burner1 $burner2 2>/dev/null

# the table: one row per test that failed in some run, one column per run
echo
echo "failures by run (x = failed), logs in $dir:"
grep -h '^not ok ' "$dir"/run*.log | sed 's/^not ok - //; s/ (exit [0-9]*)$//' |
	sort -u >"$dir/failed"
printf '%-70s' "test"
i=1
while [ "$i" -le "$runs" ]; do printf ' %4s' "r$i"; i=$((i + 1)); done
echo
while read -r name; do
	printf '%-70.70s' "$name"
	i=1
	while [ "$i" -le "$runs" ]; do
		if sed 's/ (exit [0-9]*)$//' "$dir/run$i.log" | grep -qxF "not ok - $name"; then
			printf ' %4s' x
		else
			printf ' %4s' .
		fi
		i=$((i + 1))
	done
	echo
done <"$dir/failed"
printf '%-70s' "failed (of passed + failed)"
i=1
while [ "$i" -le "$runs" ]; do
	printf ' %4s' "$(tail -n 1 "$dir/run$i.log" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')"
	i=$((i + 1))
done
echo
[ ! -s "$dir/failed" ] && ! grep -L '^[0-9]* passed, 0 failed$' "$dir"/run*.log | grep -q .
