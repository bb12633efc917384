#!/bin/sh
# bench/package.sh: issue 18, local work in proportion to the change. A
# generated recipe of IMAGES (480) packaged images on the preview engine
# (bench/gen.py --images, package fal-zip 1024 px): the first full build,
# then EDITS one-image edits (a00002 gets a new prompt each time: its
# image changes, passed through to the package as it is not edited), and for each build
#
#   package    the package node's time, from the build's own line
#              "[n/N] package (loramake, Xs)": normalising what is not
#              cached (runtime/normalise.h), assembling the ZIP, caching it
#   normalised the build's "package: N images normalised, M from the cache"
#   build      the whole `loramake R` wall time (the edit's preview image,
#              upscale and caption, the package, its write-out to dist/ and
#              the build's own check)
#   check      `loramake R check` wall time, median of RUNS, with the facts
#              cache (.loramake/facts) as it was before the build, so it
#              decodes what the build changed (the first build: all of
#              them; an edit: one); "check, warm" with every fact cached
#
#   sh bench/package.sh                      from the repo root
#   IMAGES=480 EDITS=3 RUNS=5 JOBS=2 sh bench/package.sh
#
# Goals: after a one-image edit, package + check under 2 s; the first full
# package of 480 images under 15 s on 2 cores. Writes only under
# bench/out/package-$IMAGES/ (started afresh). See docs/bench.md.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

IMAGES=${IMAGES:-480}
EDITS=${EDITS:-3}
RUNS=${RUNS:-5}
JOBS=${JOBS:-2}
LM=${LORAMAKE:-./loramake}
OUT=bench/out/package-$IMAGES${FORMAT:+-$FORMAT}
R=$OUT/r/recipe.yaml
export NO_HYPERFINE=1 # check's runs restore the facts first: a plain loop

[ -x "$LM" ] || make >/dev/null
rm -rf "$OUT"
mkdir -p "$OUT"
python3 bench/gen.py "$OUT/r" --images "$IMAGES" --format "${FORMAT:-fal-zip}"

# the field after "(loramake, " on the package's line of build log $1
package_secs() { sed -n 's/^\[[0-9]*\/[0-9]*\] package (loramake, \([0-9.]*\)s.*/\1/p' "$1"; }

# check TAG: time `loramake check` RUNS times, each from the facts saved
# in $OUT/facts.before (or none), into CHECK_MS
time_check() {
	: >"$OUT/$1.times"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		if [ -f "$OUT/facts.before" ]; then
			cp "$OUT/facts.before" "$OUT/r/.loramake/facts"
		else
			rm -f "$OUT/r/.loramake/facts"
		fi
		c0=$(date +%s%N)
		"$LM" check "$R" >"$OUT/$1.out" 2>&1 || [ $? -eq 1 ] # 1: a rule failed
		c1=$(date +%s%N)
		echo "$(( (c1 - c0) / 1000000 ))" >>"$OUT/$1.times"
		i=$((i + 1))
	done
	CHECK_MS=$(median "$OUT/$1.times")
}

# build TAG: one build, its log in $OUT/TAG.log; prints a table row
build() {
	[ -f "$OUT/r/.loramake/facts" ] && cp "$OUT/r/.loramake/facts" "$OUT/facts.before"
	t0=$(date +%s%N)
	"$LM" -j "$JOBS" "$R" >"$OUT/$1.out" 2>"$OUT/$1.log"
	t1=$(date +%s%N)
	pkg=$(package_secs "$OUT/$1.log")
	norm=$(sed -n 's/^package: \(.*\)/\1/p' "$OUT/$1.log")
	time_check "$1-check"
	printf '| %s | %s s | %s | %.1f s | %s ms |\n' "$1" "$pkg" "$norm" \
		"$(echo "$t0 $t1" | awk '{ print ($2 - $1) / 1e9 }')" "$CHECK_MS"
}

machine
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine counts in every figure)"
echo "| build | package | normalised | build | check |"
echo "|---|---|---|---|---|"
rm -f "$OUT/facts.before"
build first
e=1
while [ "$e" -le "$EDITS" ]; do
	sed -i "s/^    a00002: {.*/    a00002: { caption: \"seen from viewpoint 2\", prompt: \"take $e\", framing: full }/" "$R"
	build "edit$e"
	e=$((e + 1))
done
cp "$OUT/r/.loramake/facts" "$OUT/facts.before"
time_check warm
echo "check, warm (every fact cached): $CHECK_MS ms"
ls -l "$OUT/r/dist/bench.zip" | awk '{ printf "zip: %.1f MiB\n", $5 / 1048576 }'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
