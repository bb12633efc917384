#!/bin/sh
# bench/remote-cache-plan.sh: issue 15, what an unreachable team cache
# costs a plan (docs/remote-cache.md: 0.6 s at most, a second in all). A
# plan of 100 fal image nodes (10 angle items x 10), RUNS (5) times
# against each cache:
#
#   none       no cache named
#   refused    a loopback port nothing listens on
#   silent     a loopback server that accepts and never answers (https)
#   blackhole  a loopback port whose accept queue is full: the kernel
#              drops every SYN, as a blackholed address does (https)
#   10.255.255.1  https to an address that should not answer (on some
#              networks something on the path answers it)
#
#   sh bench/remote-cache-plan.sh            from the repo root
#   RUNS=10 LORAMAKE=./loramake sh bench/remote-cache-plan.sh
#
# Writes only under bench/out/remote-cache-plan/ (started afresh).
# Figures in docs/bench.md.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
RUNS=${RUNS:-5}
LM=${LORAMAKE:-$top/loramake}
OUT=$top/bench/out/remote-cache-plan
rm -rf "$OUT"
mkdir -p "$OUT/r"
cp recipes/jinx/keystones/hero.png "$OUT/r/"
{
	printf 'loramake: 1\nname: rcplan\ntrigger: RCPLAN\ntarget: flux2\n'
	printf 'engines:\n  fal: { type: fal }\nhero: { file: hero.png }\n'
	printf 'angle:\n  engine: fal\n  model: fal-ai/qwen-image-edit-2511-multiple-angles\n'
	printf '  from: hero\n  items:\n'
	for item in front back left right quarter low high closeup wide top; do
		printf '    %s: { count: 10, caption: "seen %s" }\n' "$item" "$item"
	done
} >"$OUT/r/recipe.yaml"

python3 -c 'import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True); held = []
while True: held.append(s.accept()[0])' >"$OUT/silent.port" &
silent=$!
python3 -c 'import signal, socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0); port = s.getsockname()[1]
held = [socket.socket() for _ in range(2)]
[c.setblocking(False) or c.connect_ex(("127.0.0.1", port)) for c in held]
print(port, flush=True); signal.pause()' >"$OUT/blackhole.port" &
blackhole=$!
trap 'kill $silent $blackhole 2>/dev/null' EXIT
until [ -s "$OUT/silent.port" ] && [ -s "$OUT/blackhole.port" ]; do
	sleep 0.1 # two servers starting, in a bench script: no event to wait on
done
refused=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

ms() { python3 -c 'import sys; print((int(sys.argv[2]) - int(sys.argv[1])) // 1000000)' "$1" "$2"; }

# plan_times NAME URL: RUNS plans, their times in ms (min-max)
plan_times() {
	times=
	for _ in $(seq "$RUNS"); do
		t0=$(date +%s%N)
		LORAMAKE_REMOTE_CACHE=$2 "$LM" plan "$OUT/r/recipe.yaml" >"$OUT/$1.out" 2>"$OUT/$1.err"
		t1=$(date +%s%N)
		times="$times $(ms "$t0" "$t1")"
	done
	printf '%-14s %s ms  (%s)\n' "$1" "$(echo $times | tr ' ' '\n' | sort -n |
		sed -n '1p;$p' | paste -sd-)" "$(head -c 150 "$OUT/$1.err")"
}

{
	plan_times none ""
	plan_times refused "http://127.0.0.1:$refused"
	plan_times silent "https://127.0.0.1:$(cat "$OUT/silent.port")"
	plan_times blackhole "https://127.0.0.1:$(cat "$OUT/blackhole.port")"
	plan_times 10.255.255.1 https://10.255.255.1
} | tee "$OUT/summary"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
