#!/bin/sh
# bench/noop.sh: the no-op rebuild of a ~10,000-node graph, loramake against
# ninja on the very same graph (issue 3: loramake at most half of ninja's
# time, and under 32 MB).
#
#   sh bench/noop.sh              from the repo root
#   NODES=1000 RUNS=9 JOBS=2 sh bench/noop.sh
#   GRAPH=preview sh bench/noop.sh   the preview-engine recipe (slow first build)
#
# The graph (bench/gen.py --cheap) makes every node a fast local image op:
# angles and expressions are `local` flips of a 256 px hero, upscales and
# the package 64 px, so the first build takes a few minutes on 2 cores
# rather than most of an hour. The first run builds both once (a rerun
# finds them built: gen.py leaves unchanged files alone); then it times
# `loramake --engine preview R` and `ninja -C dir` with nothing to do.
#
# Writes only under bench/out/noop-$GRAPH-$NODES/. See docs/bench.md.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

NODES=${NODES:-10000}
RUNS=${RUNS:-5}
JOBS=${JOBS:-$(nproc)}
GRAPH=${GRAPH:-cheap}
LM=${LORAMAKE:-./loramake}
NINJA=${NINJA:-ninja}
GOAL_MB=32

OUT=bench/out/noop-$GRAPH-$NODES
case $GRAPH in
cheap) CHEAP=--cheap ;;
preview) CHEAP= ;;
*) echo "GRAPH is cheap or preview" >&2; exit 2 ;;
esac
command -v "$NINJA" >/dev/null 2>&1 || {
	echo "bench/noop.sh needs ninja (apt-get install -y ninja-build)" >&2
	exit 2
}
[ -x "$LM" ] || make >/dev/null
mkdir -p "$OUT"
# shellcheck disable=SC2086 # CHEAP is one flag or nothing
python3 bench/gen.py "$OUT/lm" --nodes "$NODES" $CHEAP --ninja "$OUT/ninja" 2>/dev/null
R=$OUT/lm/recipe.yaml
N=$(grep -c '^build ' "$OUT/ninja/build.ninja")

# The first build (a no-op if an earlier run built it).
echo "building $R once ($N nodes, -j $JOBS; the first time takes minutes)..." >&2
t0=$(date +%s)
"$LM" --engine preview -j "$JOBS" "$R" >"$OUT/first-build.log" 2>&1 ||
	{ tail -n 5 "$OUT/first-build.log" >&2; exit 1; }
echo "  $(tail -n 2 "$OUT/first-build.log" | head -n 1) ($(( $(date +%s) - t0 )) s)" >&2
"$NINJA" -C "$OUT/ninja" >"$OUT/ninja-first.log" 2>&1 ||
	{ tail -n 5 "$OUT/ninja-first.log" >&2; exit 1; }

# Both must really have nothing to do, or the figures mean nothing.
case $("$LM" --engine preview "$R" 2>&1) in
*"nothing to do"*) ;;
*) echo "loramake still has work to do on $R" >&2; exit 1 ;;
esac
case $("$NINJA" -C "$OUT/ninja" 2>&1) in
*"no work to do"*) ;;
*) echo "ninja still has work to do in $OUT/ninja" >&2; exit 1 ;;
esac

echo "no-op rebuild: $N nodes ($GRAPH graph), $(date -u +%Y-%m-%d)"
machine
printf '%-30s %12s %14s\n' "command" "median ms" "peak RSS MiB"
measure lm "$LM" --engine preview "$R"
LM_MS=$MS LM_MB=$MB
printf '%-30s %12s %14s\n' "loramake --engine preview R" "$MS" "$MB"
measure lmfull sh bench/noop-full.sh "$R"
printf '%-30s %12s %14s\n' "  the same, stamp removed" "$MS" "$MB"
FULL_MS=$MS
measure ninja "$NINJA" -C "$OUT/ninja"
NJ_MS=$MS
printf '%-30s %12s %14s\n' "ninja -C dir" "$MS" "$MB"
echo "$LM_MS $NJ_MS $LM_MB" | awk -v gb="$GOAL_MB" '{
	r = $1 / $2
	printf "loramake/ninja time: %.2f (goal <= 0.50): %s; RSS %s MiB (goal < %d): %s\n",
		r, r <= 0.5 ? "ok" : "MISS", $3, gb, $3 + 0 < gb ? "ok" : "MISS" }'
echo "$FULL_MS $NJ_MS" | awk '{ printf "without the stamp (full check of every node): %.2f of ninja\n", $1 / $2 }'
echo "($HOW; peak RSS: median of $RUNS runs of /usr/bin/time -f %M)"
