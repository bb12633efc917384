#!/bin/sh
# bench/train-upload.sh: the memory and time of a validation's upload of
# a big LoRA to the fake fal storage, or with ENGINE=replicate to the fake
# Replicate's files API (the same path a package's ZIP takes to a
# trainer). A build trains on the fake (a small LoRA), the cached
# LoRA object is then replaced by a MB-megabyte safetensors file (a valid
# frame, zeros after it), and N validations with a new seed upload it:
# `loramake R train` under /usr/bin/time -v. Reported: the upload's
# build time, loramake's peak RSS and the uploads the fake took (one:
# the validations share it).
#
#   LORAMAKE   the binary (default ./loramake)
#   MB         the LoRA's size in MiB (default 300; 90 on Replicate,
#              whose files API takes up to 100 MiB)
#   ENGINE     fal (default) or replicate
#   N          validations (default 1)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
LORAMAKE=${LORAMAKE:-$top/loramake}
ENGINE=${ENGINE:-fal}
N=${N:-1}
case $ENGINE in
fal) MB=${MB:-300} fake=fal_server.py ;;
replicate) MB=${MB:-90} fake=replicate_fake.py ;;
*) echo "ENGINE is fal or replicate" >&2; exit 2 ;;
esac
work=$top/bench/out/train-upload
rm -rf "$work"
mkdir -p "$work/r"
cd "$work"
python3 "$top/tests/fake/$fake" --port 0 --key bench-key \
	--log fake.log >fake.out 2>fake.err &
fake_pid=$!
trap 'kill $fake_pid 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 100); do
	port=$(awk '/^PORT /{print $2}' fake.out)
	[ -n "$port" ] && break
	sleep 0.05
done
cp "$top/recipes/jinx/keystones/hero.png" r/a.png
cp "$top/tests/data/images/scene.png" r/b.png
if [ "$ENGINE" = fal ]; then
	engine="fal: { type: fal, url: \"http://127.0.0.1:$port\" }"
	train="train: { steps: 1000 }"
	export FAL_KEY=bench-key
else
	engine="rep: { type: replicate, url: \"http://127.0.0.1:$port\" }"
	train="train: { engine: rep, destination: me/up, model: \"ostris/flux-dev-lora-trainer:$(printf '%064d' 0)\" }"
	export REPLICATE_API_TOKEN=bench-key
fi
cat >r/recipe.yaml <<EOR
loramake: 1
name: up
trigger: UPCHAR
target: flux
engines:
  $engine
anchor:
  items:
    a: { file: a.png, caption: "smiling" }
    b: { file: b.png, caption: "in a park" }
package: { format: fal-zip }
$train
validate:
  seed: 1
  items:
$(for i in $(seq 1 "$N"); do echo "    park$i: \"walking in park $i\""; done)
EOR
"$LORAMAKE" r/recipe.yaml train >train.out 2>train.err
obj=$(sed -n 's/^node train\/up .* out=\([0-9a-f]*\) .*/\1/p' r/recipe.lock)
lora=r/.loramake/objects/$(echo "$obj" | cut -c1-2)/$(echo "$obj" | cut -c3-)
chmod u+w "$lora"
python3 - "$MB" >"$lora" <<'PY'
import struct, sys
header = b"{}      "
out = sys.stdout.buffer
out.write(struct.pack("<Q", len(header)) + header)
zeros = b"\0" * (1 << 20)
for _ in range(int(sys.argv[1])):
    out.write(zeros)
PY
sed -i 's/seed: 1/seed: 2/' r/recipe.yaml
uploads() { python3 -c "import json, urllib.request; print(json.load(urllib.request.urlopen('http://127.0.0.1:$port/_stats'))['uploads'])"; }
before=$(uploads)
/usr/bin/time -v "$LORAMAKE" r/recipe.yaml train >upload.out 2>upload.err
after=$(uploads)
rss=$(awk -F': ' '/Maximum resident/{print $2}' upload.err)
secs=$(sed -n 's/.* built in \([0-9.]*\)s.*/\1/p' upload.out)
echo "train-upload ($ENGINE): a $MB MiB LoRA for $N validation(s): $((after - before)) upload(s) in ${secs}s, peak RSS $((rss / 1024)) MiB"
