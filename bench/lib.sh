# bench/lib.sh: shared by bench/plan.sh and bench/noop.sh (sourced, POSIX sh).
#
#   measure TAG CMD [ARG...]
#       runs CMD $RUNS times (after one warm-up) with its output thrown away
#       and sets MS (median wall time, milliseconds) and MB (median peak
#       RSS, MiB) and HOW (what timed it). Wall time from hyperfine when it
#       is installed (NO_HYPERFINE=1 to skip it), else `date +%s%N` around
#       each run; peak RSS from GNU time (/usr/bin/time -f %M) in separate
#       runs, so its own fork does not count against the wall time.
#       Raw figures go to $OUT/TAG.times and $OUT/TAG.rss.
#
# Wants: OUT (a folder under bench/out), RUNS.
# shellcheck shell=sh disable=SC2034 # MS, MB and HOW are for the caller

median() { # median of the numbers in file $1 (odd count: the middle one)
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

measure() {
	tag=$1
	shift
	"$@" >/dev/null 2>&1 || { echo "bench: '$*' failed" >&2; exit 1; } # warm-up
	: >"$OUT/$tag.times"
	if [ -z "${NO_HYPERFINE:-}" ] && command -v hyperfine >/dev/null 2>&1; then
		HOW="hyperfine -N, $RUNS runs"
		hyperfine -N --style none --warmup 1 --runs "$RUNS" \
			--export-json "$OUT/$tag.json" -- "$*" >/dev/null 2>&1 ||
			{ echo "bench: hyperfine failed on '$*'" >&2; exit 1; }
		python3 -c 'import json,sys
for t in json.load(open(sys.argv[1]))["results"][0]["times"]: print("%.3f" % (t * 1000))' \
			"$OUT/$tag.json" >"$OUT/$tag.times"
	else
		HOW="date +%s%N loop, $RUNS runs"
		i=0
		while [ "$i" -lt "$RUNS" ]; do
			t0=$(date +%s%N)
			"$@" >/dev/null 2>&1
			t1=$(date +%s%N)
			echo "$(( (t1 - t0) / 1000 ))" | awk '{ printf "%.3f\n", $1 / 1000 }' >>"$OUT/$tag.times"
			i=$((i + 1))
		done
	fi
	MS=$(median "$OUT/$tag.times")
	: >"$OUT/$tag.rss"
	MB=n/a
	if [ -x /usr/bin/time ]; then
		i=0
		while [ "$i" -lt "$RUNS" ]; do
			/usr/bin/time -f %M -a -o "$OUT/$tag.rss" "$@" >/dev/null 2>&1
			i=$((i + 1))
		done
		MB=$(median "$OUT/$tag.rss" | awk '{ printf "%.1f", $1 / 1024 }')
	fi
	MS=$(echo "$MS" | awk '{ printf "%.1f", $1 }')
}

machine() {
	echo "machine: $(nproc) cpus, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), $(uname -sr)"
}
