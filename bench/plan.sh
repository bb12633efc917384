#!/bin/sh
# bench/plan.sh: how long `loramake plan` takes, and how much memory, on a
# recipe of about 10,000 nodes (issue 2: under 60 ms and under 32 MB).
#
#   sh bench/plan.sh              from the repo root
#   NODES=1000 RUNS=9 sh bench/plan.sh
#
# Writes only under bench/out/plan/. See docs/bench.md.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

NODES=${NODES:-10000}
RUNS=${RUNS:-5}
LM=${LORAMAKE:-./loramake}
OUT=bench/out/plan
GOAL_MS=60
GOAL_MB=32

[ -x "$LM" ] || make >/dev/null
mkdir -p "$OUT"
python3 bench/gen.py "$OUT" --nodes "$NODES" 2>/dev/null
R=$OUT/recipe.yaml
"$LM" plan --json "$R" >"$OUT/graph.json"
N=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["jobs"]))' "$OUT/graph.json")

verdict() { # ms mb
	echo "$1 $2" | awk -v gm="$GOAL_MS" -v gb="$GOAL_MB" '{
		if ($1 + 0 < gm && $2 + 0 < gb) print "ok"; else print "MISS" }'
}

echo "loramake plan: $N nodes ($R), $(date -u +%Y-%m-%d)"
machine
printf '%-22s %12s %14s   %s\n' "command" "median ms" "peak RSS MiB" "goal <${GOAL_MS} ms, <${GOAL_MB} MiB"
measure plan "$LM" plan "$R"
printf '%-22s %12s %14s   %s\n' "plan" "$MS" "$MB" "$(verdict "$MS" "$MB")"
measure plan-json "$LM" plan --json "$R"
printf '%-22s %12s %14s   %s\n' "plan --json" "$MS" "$MB" "$(verdict "$MS" "$MB")"
echo "($HOW; peak RSS: median of $RUNS runs of /usr/bin/time -f %M)"
