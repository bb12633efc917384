#!/bin/sh
# bench/review.sh: issue 13, the review page of a 1,000-image dataset.
# A generated recipe (bench/gen.py --images 1000: preview placeholders,
# each image its own; GRAPH=cheap: local flips, two distinct images, built
# in a third of the time), built once (a quarter of an hour on 2 cores),
# then served by `loramake review`, and
#
#   state      GET /api/state: the whole state's JSON (median of RUNS)
#   load 1, 2  the page in Debian's chromium, headless (playwright-core of
#              tests/browser/): from navigation until the grid is drawn and
#              every thumbnail in the first screen has loaded. The first
#              load makes those thumbnails (libvips, then cached as
#              objects); the second finds them (bench/review-load.mjs)
#   images/s   GET /thumb/HASH of all 1,000 images, 8 connections at once,
#              thumbnails made already (bench/review-rate.py); and the
#              same of the full images (/obj/HASH)
#
#   sh bench/review.sh                        from the repo root
#   IMAGES=1000 RUNS=5 JOBS=2 GRAPH=preview|cheap sh bench/review.sh
#
# Goals: the page ready in under 1 s on the second load; 200 image
# requests a second. Writes only under bench/out/review-$GRAPH-$IMAGES/ (a rerun
# finds the dataset built). Needs what `sh tests/deps.sh` installs. See
# docs/bench.md.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
IMAGES=${IMAGES:-1000}
RUNS=${RUNS:-5}
JOBS=${JOBS:-2}
LM=${LORAMAKE:-./loramake}
GRAPH=${GRAPH:-preview}
OUT=bench/out/review-$GRAPH-$IMAGES
R=$OUT/r/recipe.yaml
case $GRAPH in
cheap) CHEAP=--cheap ;;
preview) CHEAP= ;;
*) echo "GRAPH is preview or cheap" >&2; exit 2 ;;
esac
[ -x "$LM" ] || make >/dev/null
mkdir -p "$OUT"
# shellcheck disable=SC2086 # CHEAP is one flag or nothing
python3 bench/gen.py "$OUT/r" --images "$IMAGES" $CHEAP >/dev/null
echo "building $R once (-j $JOBS; the first time takes minutes)..." >&2
"$LM" --engine preview -j "$JOBS" "$R" >"$OUT/build.log" 2>&1 || {
	tail "$OUT/build.log" >&2
	exit 1
}
"$LM" review --engine preview --no-open "$R" >"$OUT/server.out" 2>"$OUT/server.err" &
pid=$!
trap 'kill "$pid" 2>/dev/null' EXIT INT TERM
i=0
until grep -q '^review: http' "$OUT/server.out"; do
	i=$((i + 1))
	[ "$i" -lt 300 ] || { echo "bench: the server did not start" >&2; exit 1; }
	sleep 0.1
done
URL=$(sed -n 's/^review: \(http.*\)$/\1/p' "$OUT/server.out")
BASE=${URL%%/?token=*}
TOKEN=${URL##*token=}

measure state curl -sf -o /dev/null "$BASE/api/state?token=$TOKEN"
STATE_MS=$MS
STATE_KB=$(($(curl -sf "$BASE/api/state?token=$TOKEN" | wc -c) / 1024))

node bench/review-load.mjs "$URL" >"$OUT/load.txt"
LOAD1=$(sed -n 's/^load 1: \([0-9.]*\) ms.*/\1/p' "$OUT/load.txt")
LOAD2=$(sed -n 's/^load 2: \([0-9.]*\) ms.*/\1/p' "$OUT/load.txt")
SHOWN=$(sed -n 's/^load 2: .*, \([0-9]*\) thumbnails.*/\1/p' "$OUT/load.txt")

python3 bench/review-rate.py "$BASE" "$TOKEN" thumb >"$OUT/rate-thumb.txt"
python3 bench/review-rate.py "$BASE" "$TOKEN" obj >"$OUT/rate-obj.txt"

echo "review of $IMAGES images ($(nproc) cores):"
echo "  state       $STATE_MS ms ($STATE_KB KiB of JSON; $HOW)"
echo "  load 1      $LOAD1 ms (grid drawn, $SHOWN thumbnails of the first screen made and loaded)"
echo "  load 2      $LOAD2 ms (the same, thumbnails cached; goal < 1000 ms)"
echo "              ($(sed -n 's/^load 2: .*\(render [0-9]* ms\)/page \1/p' "$OUT/load.txt"))"
echo "  thumbnails  $(cat "$OUT/rate-thumb.txt")"
echo "  images      $(cat "$OUT/rate-obj.txt")"
