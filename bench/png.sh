#!/bin/sh
# bench/png.sh: PNG encoder settings against size and time (issue 18), the
# measurement behind image.c's save_png settings (docs/images.md, "PNG
# settings"). Three 1024x1024 inputs: a preview placeholder upscaled from
# 256 px as bench/package.sh's are (IMAGE, default a normalised one from
# a bench/package.sh run), a small JPEG photo enlarged, and blurred colour
# noise (detail the encoder cannot predict). For each compression level
# and filter: the encoder's CPU time (children's user+sys, median of RUNS,
# less a `vips copy` to .v of the same input) and the file size.
#
#   sh bench/png.sh          needs the vips command (apt-get install libvips-tools)
#   RUNS=9 IMAGE=some.png sh bench/png.sh
#
# Writes only under bench/out/png/.
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
OUT=bench/out/png
mkdir -p "$OUT"
export VIPS_CONCURRENCY=1 # as loramake: one thread a pipeline
IMAGE=${IMAGE:-$(find bench/out/package-480/r/build/upscale -name '*.png' 2>/dev/null | head -n 1)}
[ -n "$IMAGE" ] || { echo "run bench/package.sh first, or set IMAGE" >&2; exit 2; }
vips resize "$IMAGE" "$OUT/placeholder.v" "$(echo "$(vipsheader -f width "$IMAGE")" | awk '{ print 1024 / $1 }')" --kernel lanczos3
vips thumbnail recipes/sandra/photos/IMG_0412.jpg "$OUT/photo.v" 1024 --height 1024 --size force
for s in 1 2 3; do
	vips gaussnoise "$OUT/n$s.v" 1024 1024 --sigma 60 --mean 128 --seed "$s"
	vips gaussblur "$OUT/n$s.v" "$OUT/b$s.v" 1.2
done
vips bandjoin "$OUT/b1.v $OUT/b2.v $OUT/b3.v" "$OUT/d.v"
vips cast "$OUT/d.v" "$OUT/detail.v" uchar
python3 - "$OUT" "$RUNS" <<'PY'
import os, resource, statistics, subprocess, sys
out, runs = sys.argv[1], int(sys.argv[2])
def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
def ms(args):
    v = []
    for _ in range(runs):
        c = cpu()
        subprocess.run(args, check=True)
        v.append(cpu() - c)
    return statistics.median(v) * 1000
settings = [(1, "paeth"), (3, "paeth"), (6, "none"), (6, "up"), (6, "paeth"),
            (6, "all"), (9, "all")]
print("| settings | " + " | ".join(["placeholder", "photo", "detail"]) + " |")
print("|---|---|---|---|")
rows = {s: [] for s in settings}
for name in ["placeholder", "photo", "detail"]:
    src = os.path.join(out, name + ".v")
    base = ms(["vips", "copy", src, os.path.join(out, "base.v")])
    for c, f in settings:
        png = os.path.join(out, "o.png")
        t = ms(["vips", "copy", src, png + "[compression=%d,filter=%s,strip]" % (c, f)]) - base
        rows[(c, f)].append("%.0f ms, %.0f KiB" % (max(t, 0), os.path.getsize(png) / 1024))
for (c, f), v in rows.items():
    print("| compression %d, filter %s | %s |" % (c, f, " | ".join(v)))
PY
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
