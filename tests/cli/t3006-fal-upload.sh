#!/bin/sh
# t3006: fal inputs. A small input travels as a data URI in the request
# body; one bigger than 4 MiB goes through the storage upload flow
# (ENGINES.md 1.11 A: initiate with the key, PUT the bytes without it)
# and the request carries the uploaded file's URL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fal-lib.sh"
start_fake --job-ms 100 || exit 1
export FAL_KEY=$FAL_TEST_KEY

# recipe DIR HERO: three angles of HERO on the fake
recipe() {
	mkdir -p "$1" && cp "$2" "$1/hero.png" &&
	cat >"$1/recipe.yaml" <<-EOF
	loramake: 1
	name: up
	trigger: UPTEST
	target: flux
	engines:
	  fal: { type: fal, url: "$FAKE_URL", concurrency: 16 }
	hero: { file: hero.png }
	angle:
	  engine: fal
	  model: fal-ai/qwen-image-edit-2511-multiple-angles
	  from: hero
	  items:
	    front: { caption: "seen from the front" }
	    back: { caption: "seen from behind" }
	    profile_left: { caption: "in left profile" }
	EOF
}

test_expect_success 'a small input is sent as a data URI' '
	recipe small "$SRC/tests/data/images/scene.png" &&
	lm small/recipe.yaml >out 2>err &&
	test "$(fake_stat "d[\"uploads\"]")" = 0 &&
	test "$(fake_bodies "sum(1 for b in d[\"bodies\"] if b[\"body\"][\"image_urls\"][0].startswith(\"<\"))")" = 3
'
test_expect_success 'an input over 4 MiB is uploaded to storage first' '
	python3 - <<-PY &&
	import random, struct, zlib
	w, h = 1400, 1100
	rnd = random.Random(5)
	raw = b"".join(b"\0" + rnd.randbytes(w * 3) for _ in range(h))
	def chunk(t, d):
	    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
	png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
	       chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))
	assert len(png) > 4 * 1024 * 1024, len(png)
	open("big.png", "wb").write(png)
	PY
	recipe big big.png &&
	lm -v big/recipe.yaml >out 2>err &&
	test "$(fake_stat "d[\"uploads\"]")" = 3 &&
	test "$(fake_bodies "sum(1 for b in d[\"bodies\"] if b[\"body\"][\"image_urls\"][0].startswith(\"$FAKE_URL/files/u/\"))")" = 3 &&
	grep -q "^fal: angle/front: POST $FAKE_URL/storage/upload/initiate: 200" err &&
	grep -q "^fal: angle/front: PUT $FAKE_URL/_upload/[0-9a-f]*: 200" err &&
	check_pngs big/.loramake/objects
'
test_expect_success 'no output or file shows the key' '
	no_secret "$FAL_KEY" out err big small "$TRASH/fake.log" &&
	test "$(fake_stat "d[\"auth_failures\"]")" = 0
'
test_done
