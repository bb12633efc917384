#!/bin/sh
# bench/remote.sh: the remote-engine bench, shared by bench/fal.sh,
# bench/replicate.sh and bench/gemini.sh (which set ENGINE): JOBS jobs against the engine's
# fake answering each job in JOB_MS, at concurrency CONC. The ideal is
# ceil(JOBS / CONC) * JOB_MS (320 / 16 * 0.2 s = 4 s).
#
#   ENGINE     fal, replicate or gemini
#   LORAMAKE   the binary (default ./loramake)
#   RUNS       runs (default 5)       JOBS    jobs (default 320)
#   JOB_MS     fake job time (200)    CONC    engine concurrency (16)
#
# Each run: a fresh folder under bench/out/ENGINE/ holding a hero PNG and
# a recipe with one angle section of JOBS items (an image-to-image model
# from the hero), a fresh fake, `loramake -j 64` under /usr/bin/time -v.
# Reported: wall time of the build, its ratio to the ideal, peak RSS, and
# from the fake's /_stats: submits, the most jobs in flight at once, and
# status polls.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
LORAMAKE=${LORAMAKE:-$top/loramake}
JOBS=${JOBS:-320}
JOB_MS=${JOB_MS:-200}
CONC=${CONC:-16}
RUNS=${RUNS:-5}
ENGINE=${ENGINE:-fal}
# what differs per engine: its fake, key variable, model, its counters
# of submits and polls (Gemini's call is synchronous: no polls), and
# whether the model takes strength:
submits_stat=submits_total strength="  strength: 0.5\n"
case $ENGINE in
fal)
	fake=fal_server.py key_env=FAL_KEY model=fal-ai/flux/dev/image-to-image
	polls_stat=status_polls ;;
replicate)
	fake=replicate_fake.py key_env=REPLICATE_API_TOKEN
	model=black-forest-labs/flux-dev polls_stat=polls ;;
gemini)
	fake=gemini_fake.py key_env=GEMINI_API_KEY model=gemini-2.5-flash-image
	submits_stat=calls_total polls_stat= strength= ;;
*)
	echo "bench/remote.sh: ENGINE must be fal, replicate or gemini" >&2
	exit 2 ;;
esac
work=$top/bench/out/$ENGINE
rm -rf "$work"
mkdir -p "$work"
fake_pid=

cleanup() {
	[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# start_fake: run the fake on a free port; sets fake_pid and port.
start_fake() {
	python3 "$top/tests/fake/$fake" --port 0 --key bench-key \
		--job-ms "$JOB_MS" >"$work/fake.out" 2>"$work/fake.err" &
	fake_pid=$!
	for _ in $(seq 1 100); do
		port=$(awk '/^PORT /{print $2}' "$work/fake.out")
		[ -n "$port" ] && return 0
		sleep 0.05
	done
	echo "bench/$ENGINE.sh: the fake did not start" >&2
	exit 1
}

# write_recipe DIR: the JOBS-item recipe pointing at the fake.
write_recipe() {
	mkdir -p "$1/keystones"
	cp "$top/recipes/jinx/keystones/hero.png" "$1/keystones/hero.png"
	python3 - "$1/recipe.yaml" "$port" "$JOBS" "$CONC" "$ENGINE" "$model" "$strength" <<'PY'
import sys
path, port, jobs, conc, engine, model = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
strength = sys.argv[7].replace("\\n", "\n")
with open(path, "w") as f:
    f.write("loramake: 1\nname: bench%s\ntrigger: BENCH\ntarget: flux\n" % engine)
    f.write("engines:\n  %s: { type: %s, url: \"http://127.0.0.1:%s\", "
            "concurrency: %s }\n" % (engine, engine, port, conc))
    f.write("hero: { file: keystones/hero.png }\n")
    f.write("angle:\n  engine: %s\n  model: %s\n" % (engine, model))
    f.write("  from: hero\n%s  items:\n" % strength)
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
: >"$work/runs"
for r in $(seq 1 "$RUNS"); do
	start_fake
	d="$work/run$r"
	write_recipe "$d"
	env "$key_env=bench-key" /usr/bin/time -v -o "$d/time" \
		"$LORAMAKE" -j 64 "$d/recipe.yaml" >"$d/out" 2>"$d/err" || {
		echo "bench/$ENGINE.sh: the build failed:" >&2
		tail -20 "$d/err" >&2
		exit 1
	}
	wall=$(sed -n 's/^\([0-9]*\) nodes built in \([0-9.]*\)s.*/\2/p' "$d/out")
	elapsed=$(awk '/Elapsed \(wall clock\)/{print $NF}' "$d/time")
	rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$d/time")
	submits=$(stat_of "$submits_stat")
	inflight=$(stat_of max_inflight)
	polls=0
	[ -z "$polls_stat" ] || polls=$(stat_of "$polls_stat")
	echo "run $r: $JOBS jobs built in ${wall}s (process ${elapsed}), ideal ${ideal}s," \
	     "peak RSS $((rss / 1024)) MiB, submits $submits, max in flight $inflight," \
	     "status polls $polls"
	echo "$wall $rss $inflight $polls" >>"$work/runs"
	kill "$fake_pid"
	wait "$fake_pid" 2>/dev/null || true
	fake_pid=
done
python3 - "$work/runs" "$JOBS" "$CONC" "$JOB_MS" "$ideal" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
jobs, conc, job_ms, ideal = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
wall = statistics.median(r[0] for r in rows)
rss = statistics.median(r[1] for r in rows) / 1024
polls = statistics.median(r[3] for r in rows)
inflight = int(max(r[2] for r in rows))
print("median of %d: %.1f s (%.2fx the ideal %.1f s; all: %s)" % (
    len(rows), wall, wall / ideal, ideal, " ".join("%.1f" % r[0] for r in rows)))
print("| jobs | concurrency | job time | ideal | wall (median) | ratio | min..max | peak RSS | in flight | status polls |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
print("| %s | %s | %s ms | %.1f s | %.1f s | %.2fx | %.1f..%.1f s | %.0f MiB | %d | %.0f |" % (
    jobs, conc, job_ms, ideal, wall, wall / ideal, min(r[0] for r in rows),
    max(r[0] for r in rows), rss, inflight, polls))
PY
