#!/bin/sh
# bench/fal.sh: 320 fal jobs against the fake fal server (tests/fake/
# fal_server.py) answering each job in 200 ms, at concurrency 16. The
# ideal is 320 / 16 * 0.2 s = 4 s; the target is within 1.15x (4.6 s).
#
#   sh bench/fal.sh [RUNS]        (default 3 runs; prints the best and all)
#
#   LORAMAKE   the binary (default ./loramake)
#   JOBS       jobs (default 320)     JOB_MS  fake job time (default 200)
#   CONC       engine concurrency (default 16)
#
# Each run: a fresh folder holding a hero PNG and a recipe with one angle
# section of JOBS items (fal-ai/flux/dev/image-to-image from the hero), a
# fresh fake, `loramake -j 64` under /usr/bin/time -v. Reported: wall time
# of the build, its ratio to the ideal, peak RSS, and from the fake's
# /_stats: submits, the most jobs in flight at once, and status polls.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
LORAMAKE=${LORAMAKE:-$top/loramake}
JOBS=${JOBS:-320}
JOB_MS=${JOB_MS:-200}
CONC=${CONC:-16}
RUNS=${1:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/lm-bench-fal.XXXXXX")
fake_pid=

cleanup() {
	[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# start_fake: run the fake on a free port; sets fake_pid and port.
start_fake() {
	python3 "$top/tests/fake/fal_server.py" --port 0 --key bench-key \
		--job-ms "$JOB_MS" >"$work/fake.out" 2>"$work/fake.err" &
	fake_pid=$!
	for _ in $(seq 1 100); do
		port=$(awk '/^PORT /{print $2}' "$work/fake.out")
		[ -n "$port" ] && return 0
		sleep 0.05
	done
	echo "bench/fal.sh: the fake did not start" >&2
	exit 1
}

# write_recipe DIR: the JOBS-item recipe pointing at the fake.
write_recipe() {
	mkdir -p "$1/keystones"
	cp "$top/recipes/jinx/keystones/hero.png" "$1/keystones/hero.png"
	python3 - "$1/recipe.yaml" "$port" "$JOBS" "$CONC" <<'PY'
import sys
path, port, jobs, conc = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(path, "w") as f:
    f.write("loramake: 1\nname: benchfal\ntrigger: BENCH\ntarget: flux\n")
    f.write("engines:\n  fal: { type: fal, url: \"http://127.0.0.1:%s\", "
            "concurrency: %s }\n" % (port, conc))
    f.write("hero: { file: keystones/hero.png }\n")
    f.write("angle:\n  engine: fal\n  model: fal-ai/flux/dev/image-to-image\n")
    f.write("  from: hero\n  strength: 0.5\n  items:\n")
    for i in range(jobs):
        f.write("    pose%04d: { prompt: \"pose number %d\", caption: \"pose %d\" }\n"
                % (i, i, i))
PY
}

stat_of() { # stat_of KEY: a number from the fake's /_stats
	curl -s "http://127.0.0.1:$port/_stats" |
	python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}

ideal=$(python3 -c "import math; print(math.ceil($JOBS / $CONC) * $JOB_MS / 1000)")
best=
all=
for r in $(seq 1 "$RUNS"); do
	start_fake
	d="$work/run$r"
	write_recipe "$d"
	FAL_KEY=bench-key /usr/bin/time -v -o "$d/time" \
		"$LORAMAKE" -j 64 "$d/recipe.yaml" >"$d/out" 2>"$d/err" || {
		echo "bench/fal.sh: the build failed:" >&2
		tail -20 "$d/err" >&2
		exit 1
	}
	wall=$(sed -n 's/^\([0-9]*\) nodes built in \([0-9.]*\)s.*/\2/p' "$d/out")
	rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$d/time")
	submits=$(stat_of submits_total)
	inflight=$(stat_of max_inflight)
	polls=$(stat_of status_polls)
	ratio=$(python3 -c "print('%.3f' % ($wall / $ideal))")
	echo "run $r: $JOBS jobs in ${wall}s (ideal ${ideal}s, ${ratio}x)," \
	     "peak RSS $((rss / 1024)) MiB, submits $submits," \
	     "max in flight $inflight, status polls $polls"
	all="$all $wall"
	if [ -z "$best" ] || python3 -c "import sys; sys.exit(not $wall < $best)"; then
		best=$wall
		best_line="| $JOBS | $CONC | $JOB_MS ms | ${ideal} s | ${wall} s | ${ratio}x | $((rss / 1024)) MiB | $inflight | $polls |"
	fi
	kill "$fake_pid"
	wait "$fake_pid" 2>/dev/null || true
	fake_pid=
done
echo "best: ${best}s of:$all"
echo "| jobs | concurrency | job time | ideal | wall | ratio | peak RSS | max in flight | status polls |"
echo "|---|---|---|---|---|---|---|---|---|"
echo "$best_line"
