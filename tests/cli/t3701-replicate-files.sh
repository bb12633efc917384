#!/bin/sh
# t3701: Replicate's files API for big inputs (ENGINES.md 2.4): an input
# over 1 MB goes up as POST /v1/files (multipart/form-data, part
# "content", the key sent) and the prediction's input is the file
# object's urls.get; one up to 1 MB stays a data URI; a urls.get on
# another host fails the node before anything is paid; the fake's own
# 401 and 400 answers of the files API.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/replicate-lib.sh"
start_replicate --job-ms 100 || exit 1
export REPLICATE_API_TOKEN=$REPLICATE_TEST_KEY

# edits RECIPE_DIR: two angle edits on an official model, one from a
# 1.1 MB hero (noise, stored uncompressed), one from a 4 KB anchor file.
edits() {
	mkdir -p "$1/keystones" &&
	python3 - "$1/keystones/big.png" <<-'PY' &&
	import random, struct, sys, zlib
	w = h = 610
	rnd = random.Random(7)
	raw = b"".join(b"\0" + bytes(rnd.getrandbits(8) for _ in range(w * 3)) for _ in range(h))
	def chunk(t, d):
	    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
	png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
	       + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b""))
	open(sys.argv[1], "wb").write(png)
	PY
	cp "$SRC/recipes/jinx/keystones/hero.png" "$1/keystones/small.png" &&
	cat >"$1/recipe.yaml" <<-EOF2
	loramake: 1
	name: files
	trigger: FILES
	target: flux
	engines:
	  rep: { type: replicate, url: "$FAKE_URL", concurrency: 4 }
	hero: { file: keystones/big.png }
	anchor:
	  items:
	    small: { file: keystones/small.png }
	angle:
	  engine: rep
	  model: black-forest-labs/flux-kontext-pro
	  items:
	    big:   { from: hero, prompt: "the same woman at a desk" }
	    small: { from: anchor/small, prompt: "the same woman in a park" }
	EOF2
}

test_expect_success 'an input over 1 MB is uploaded to /v1/files; its urls.get goes into the input' '
	edits r1 &&
	test "$(wc -c <r1/keystones/big.png)" -gt 1000000 &&
	lm -v r1/recipe.yaml >out 2>err &&
	grep -E "^[0-9]+ nodes built in .*, 0 failed$" out &&
	grep -q "^replicate: angle/big: POST $FAKE_URL/v1/files: 201$" err &&
	! grep -q "^replicate: angle/small: POST $FAKE_URL/v1/files" err &&
	test "$(fake_stat "d[\"uploads\"]")" = 1 &&
	test "$(fake_stat "d[\"auth_failures\"]")" = 0 &&
	fake_bodies "d[\"bodies\"]" >bodies.json &&
	python3 - "$FAKE_URL" <<-PY
	import json, sys
	b = {x["body"]["input"]["prompt"]: x["body"]["input"]["input_image"] for x in json.load(open("bodies.json"))}
	assert b["the same woman at a desk"].startswith(sys.argv[1] + "/v1/files/"), b
	assert b["the same woman in a park"].startswith("<"), b  # a data URI, summarised
	PY
'
test_expect_success 'the fake holds the very bytes of the input (sha256 of the upload)' '
	fid=$(fake_bodies "[x[\"body\"][\"input\"][\"input_image\"] for x in d[\"bodies\"] if x[\"body\"][\"input\"][\"input_image\"].startswith(\"http\")][0].rsplit(\"/\", 1)[1]") &&
	curl -s -H "Authorization: Bearer $REPLICATE_TEST_KEY" "$FAKE_URL/v1/files/$fid" >file.json &&
	python3 - r1/keystones/big.png <<-PY
	import hashlib, json, sys
	f = json.load(open("file.json"))
	data = open(sys.argv[1], "rb").read()
	assert f["checksums"]["sha256"] == hashlib.sha256(data).hexdigest(), f
	assert f["size"] == len(data) and f["content_type"] == "image/png", f
	PY
'
test_expect_success 'a second build uploads and submits nothing' '
	lm r1/recipe.yaml >out2 2>err2 &&
	grep -E "^nothing to do" out2 &&
	test "$(fake_stat "d[\"uploads\"]")" = 1 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 2
'
test_expect_success 'an upload answered with a urls.get on another host fails the node, nothing submitted' '
	fake_control "{\"files_url_base\": \"http://127.0.0.2:9\"}" &&
	edits r2 && sed -i "s/the same woman at a desk/at a window/" r2/recipe.yaml &&
	expect_exit 1 lm r2/recipe.yaml >out3 2>err3 &&
	grep -q "angle/big: .*urls.get.*127.0.0.2:9" err3 &&
	test "$(fake_stat "d[\"uploads\"]")" = 2 &&
	test "$(fake_stat "d[\"submits_total\"]")" = 3 &&
	fake_control "{\"files_url_base\": \"\"}"
'
test_expect_success 'the files API without the token: 401 in its words, nothing stored' '
	printf "x" >one.bin &&
	curl -s -o noauth.json -w "%{http_code}" -F "content=@one.bin" "$FAKE_URL/v1/files" >code &&
	test "$(cat code)" = 401 &&
	grep -q "You did not pass a valid authentication token" noauth.json &&
	curl -s -o nopart.json -w "%{http_code}" -H "Authorization: Bearer $REPLICATE_TEST_KEY" \
		-F "other=@one.bin" "$FAKE_URL/v1/files" >code2 &&
	test "$(cat code2)" = 400 &&
	grep -q "\"status\": 400" nopart.json &&
	test "$(fake_stat "d[\"uploads\"]")" = 2
'
test_expect_success 'the key appears in no output or file' '
	no_secret "$REPLICATE_TEST_KEY" out err out2 err2 out3 err3 r1 r2
'
test_done
