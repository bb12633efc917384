#!/bin/sh
# bench/remote-cache.sh: issue 15, the team cache (docs/remote-cache.md).
# A real nginx with WebDAV on loopback (tests/nginx-dav.conf), a recipe of
# N (1000) preview images (10 angle items x N/10 counts from one hero),
#
#   fill     the first build in folder a/: makes the images and uploads
#            each object and its record (PUT /cas, PUT /ac) as it goes
#   pull     a fresh copy in folder b/ built from the cache: GET /ac and
#            GET /cas of every image, each object hashed and decoded, moved
#            into the store, its record appended (fsynced) to the action log
#   curl     the same N objects fetched one at a time, one `curl` each
#   curl -K  the same N objects in one curl process (one connection)
#
# FILL=copy makes the fill cheap on a loaded machine (making 1,000 1024 px
# previews takes an hour at load 20): a real build makes SEED_N (20)
# images with no cache, and bench/rcache-fill.py lays out N records and
# N distinct objects made from them (a tEXt chunk apart: the same pixels
# to decode) in nginx's folder, as the uploads would; the pull is then
# the same as after a real fill.
#
#   sh bench/remote-cache.sh                 from the repo root
#   N=1000 LORAMAKE=./loramake sh bench/remote-cache.sh
#   N=1000 FILL=copy sh bench/remote-cache.sh
#
# Writes only under bench/out/remote-cache-$N/ (started afresh). Figures
# in docs/bench.md.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
N=${N:-1000}
FILL=${FILL:-build}
SEED_N=${SEED_N:-20}
LM=${LORAMAKE:-$top/loramake}
OUT=$top/bench/out/remote-cache-$N
AUTH="Bearer bench-token"
rm -rf "$OUT"
mkdir -p "$OUT/nginx/cache"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s|@PREFIX@|$OUT/nginx|g" -e "s|@PORT@|$port|g" -e "s|@USER@|$(id -un)|g" \
	-e "s|@AUTH@|$AUTH|g" tests/nginx-dav.conf >"$OUT/nginx/nginx.conf"
"$(command -v nginx || echo /usr/sbin/nginx)" -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" \
	-g "daemon off;" 2>"$OUT/nginx/stderr" &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null' EXIT
url=http://127.0.0.1:$port
i=0
until curl --noproxy "*" -s -o /dev/null "$url/"; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { echo "bench: nginx did not start" >&2; cat "$OUT/nginx/stderr" >&2; exit 1; }
	sleep 0.1 # a server starting, in a bench script: no event to wait on
done
export LORAMAKE_REMOTE_CACHE=$url
export LORAMAKE_REMOTE_CACHE_HEADER="Authorization: $AUTH"

recipe() { # recipe DIR [IMAGES]
	mkdir -p "$1"
	cp recipes/jinx/keystones/hero.png "$1/"
	{
		printf 'loramake: 1\nname: rcbench\ntrigger: RCBENCH\ntarget: flux2\n'
		printf 'engines:\n  fal: { type: fal }\nhero: { file: hero.png }\n'
		printf 'angle:\n  engine: fal\n  model: fal-ai/qwen-image-edit-2511-multiple-angles\n'
		printf '  from: hero\n  items:\n'
		for item in front back left right quarter low high closeup wide top; do
			printf '    %s: { count: %d, caption: "seen %s" }\n' "$item" \
				$((${2:-$N} / 10)) "$item"
		done
	} >"$1/recipe.yaml"
}

secs() { python3 -c 'import sys; print("%.2f" % ((int(sys.argv[2]) - int(sys.argv[1])) / 1e9))' "$1" "$2"; }
rate() { python3 -c 'import sys; print("%.0f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }

recipe "$OUT/a"
if [ "$FILL" = copy ]; then
	recipe "$OUT/s" "$SEED_N"
	LORAMAKE_REMOTE_CACHE= "$LM" --engine preview "$OUT/s" >"$OUT/s.out" 2>"$OUT/s.err"
	t0=$(date +%s%N)
	python3 bench/rcache-fill.py "$LM" "$OUT/a" "$OUT/nginx/cache" "$OUT/s/.loramake/objects"
	t1=$(date +%s%N)
else
	t0=$(date +%s%N)
	"$LM" --engine preview "$OUT/a" >"$OUT/a.out" 2>"$OUT/a.err"
	t1=$(date +%s%N)
	grep "^remote cache:" "$OUT/a.err"
fi
objs=$(ls "$OUT/nginx/cache/cas" | wc -l)

recipe "$OUT/b"
t2=$(date +%s%N)
/usr/bin/time -f "%U %S" -o "$OUT/b.cpu" "$LM" --engine preview "$OUT/b" >"$OUT/b.out" 2>"$OUT/b.err"
t3=$(date +%s%N)
grep "^remote cache:" "$OUT/b.err"

ls "$OUT/nginx/cache/cas" >"$OUT/objects"
t4=$(date +%s%N)
while read -r h; do
	curl --noproxy "*" -sf -o /dev/null -H "Authorization: $AUTH" "$url/cas/$h"
done <"$OUT/objects"
t5=$(date +%s%N)
sed "s|.*|url = \"$url/cas/&\"\noutput = \"/dev/null\"|" "$OUT/objects" >"$OUT/curl.cfg"
t6=$(date +%s%N)
curl --noproxy "*" -sf -H "Authorization: $AUTH" -K "$OUT/curl.cfg"
t7=$(date +%s%N)

fill=$(secs "$t0" "$t1") pull=$(secs "$t2" "$t3")
loop=$(secs "$t4" "$t5") one=$(secs "$t6" "$t7")
printf '%-10s %6s objects %8s s %8s objects/s\n' \
	"fill ($FILL)" "$objs" "$fill" "$(rate "$objs" "$fill")" \
	pull "$objs" "$pull" "$(rate "$objs" "$pull")" \
	curl "$objs" "$loop" "$(rate "$objs" "$loop")" \
	"curl -K" "$objs" "$one" "$(rate "$objs" "$one")" | tee "$OUT/summary"
python3 -c 'import sys; u, s = map(float, open(sys.argv[1]).read().split()); print("pull CPU: %.2f s user, %.2f s system, %.1f ms an object" % (u, s, (u + s) * 1000 / int(sys.argv[2])))' "$OUT/b.cpu" "$objs"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $(du -sh "$OUT/nginx/cache/cas" | cut -f1) of objects"
