# fal-lib.sh: helpers for the t3xxx-fal-*.sh tests, sourced after lib.sh.
#
#   start_fake [FLAGS...]   the fake fal server (tests/fake/fal_server.py)
#                           on a free port, expecting key $FAL_TEST_KEY;
#                           sets FAKE_URL, stopped when the script ends.
#                           Call it outside test bodies (they are subshells).
#   start_other [FLAGS...]  a second fake, another origin (the host a hostile
#                           server points loramake at); sets OTHER_URL
#   other_stat EXPR         fake_stat over the second fake
#   fake_stat EXPR          print a Python expression over /_stats (d)
#   fake_bodies EXPR        the same over /_stats?bodies=1
#   fake_control JSON       POST /_control
#   use_fake RECIPE [CONC]  point the recipe's `fal:` engine at the fake
#   check_pngs DIR          every PNG under DIR is whole (chunks, CRCs, IEND)
#   no_secret KEY PATH...   KEY appears in none of the files under PATHs
FAL_TEST_KEY=sk-SECRET-123
FAKE_URL=

_start() { # _start NAME FLAGS...: run a fake, its files $TRASH/NAME.*
	_name=$1
	shift
	python3 "$SRC/tests/fake/fal_server.py" --port 0 --key "$FAL_TEST_KEY" \
		--log "$TRASH/$_name.log" "$@" >"$TRASH/$_name.out" 2>"$TRASH/$_name.err" &
	_fake_pid=$!
	at_exit "kill $_fake_pid 2>/dev/null; wait $_fake_pid 2>/dev/null" &&
	if ! wait_for "grep -q '^PORT ' '$TRASH/$_name.out'"; then
		echo "the fake fal server did not start" >&2
		cat "$TRASH/$_name.err" >&2
		return 1
	fi
	_url=http://127.0.0.1:$(awk '/^PORT /{print $2}' "$TRASH/$_name.out")
}

start_fake() { _start fake "$@" && FAKE_URL=$_url; }
start_other() { _start other "$@" && OTHER_URL=$_url; }

other_stat() { _fake_get /_stats "$1" "$OTHER_URL"; }

_fake_get() { # _fake_get PATH EXPR [BASE]
	python3 - "${3:-$FAKE_URL}$1" "$2" <<-'PY'
	import json, sys, urllib.request
	d = json.load(urllib.request.urlopen(sys.argv[1], timeout=10))
	v = eval(sys.argv[2])
	print(json.dumps(v) if isinstance(v, (dict, list)) else v)
	PY
}

fake_stat() { _fake_get /_stats "$1"; }
fake_bodies() { _fake_get "/_stats?bodies=1" "$1"; }

fake_control() {
	python3 - "$FAKE_URL/_control" "$1" <<-'PY'
	import sys, urllib.request
	r = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(),
	                           headers={"Content-Type": "application/json"})
	urllib.request.urlopen(r, timeout=10).read()
	PY
}

use_fake() {
	sed -i "s|^  fal: {.*}|  fal: { type: fal, url: \"$FAKE_URL\", concurrency: ${2:-16} }|" "$1" &&
	grep -q "url: \"$FAKE_URL\"" "$1"
}

MA=fal-ai/qwen-image-edit-2511-multiple-angles

# tiny DIR: two fal nodes from one hero, pointed at the fake
tiny() {
	mkdir -p "$1" && cp "$SRC/recipes/jinx/keystones/hero.png" "$1/" &&
	cat >"$1/recipe.yaml" <<-EOF &&
	loramake: 1
	name: tiny
	trigger: TINYCHAR
	target: flux2
	engines:
	  fal: { type: fal, concurrency: 4 }
	hero: { file: hero.png }
	angle:
	  engine: fal
	  model: $MA
	  from: hero
	  items:
	    front: { caption: "seen from the front", framing: medium }
	    back: { caption: "seen from behind", framing: back }
	EOF
	use_fake "$1/recipe.yaml"
}

check_pngs() {
	python3 - "$1" <<-'PY'
	import os, struct, sys, zlib
	bad, n = [], 0
	for top, _, files in os.walk(sys.argv[1]):
	    for f in files:
	        p = os.path.join(top, f)
	        data = open(p, "rb").read()
	        if not data.startswith(b"\x89PNG\r\n\x1a\n"):
	            continue
	        n += 1
	        i, end = 8, False
	        while i + 12 <= len(data):
	            ln, = struct.unpack(">I", data[i:i + 4])
	            ct = data[i + 4:i + 8]
	            body = data[i + 8:i + 8 + ln]
	            crc = data[i + 8 + ln:i + 12 + ln]
	            if len(body) != ln or len(crc) != 4 or \
	               struct.unpack(">I", crc)[0] != zlib.crc32(ct + body) & 0xffffffff:
	                break
	            i += 12 + ln
	            if ct == b"IEND":
	                end = True
	                break
	        if not end:
	            bad.append(p)
	print("%d PNGs, %d broken" % (n, len(bad)))
	for b in bad:
	    print("broken:", b)
	sys.exit(1 if bad or not n else 0)
	PY
}

no_secret() {
	_key=$1
	shift
	if grep -rlaF -- "$_key" "$@"; then
		echo "the key appears in the files above" >&2
		return 1
	fi
	# and inside the packaged ZIPs (deflated members)
	for _z in $(find "$@" -name "*.zip" 2>/dev/null); do
		if unzip -p "$_z" 2>/dev/null | grep -qaF -- "$_key"; then
			echo "the key appears inside $_z" >&2
			return 1
		fi
	done
}

# pending: how many remote requests jinx/.loramake/pending records.
pending() { if [ -e jinx/.loramake/pending ]; then grep -c "	" jinx/.loramake/pending || true; else echo 0; fi; }

# validate_recipe DIR: two anchors (files), a fal-zip package, a training
# and two validation prompts (scale 0.8, seed 7), pointed at the fake
validate_recipe() {
	mkdir -p "$1" && cp "$SRC/recipes/jinx/keystones/hero.png" "$1/a.png" &&
	cp "$SRC/tests/data/images/scene.png" "$1/b.png" &&
	cat >"$1/recipe.yaml" <<-EOF2
	loramake: 1
	name: va
	trigger: VACHAR
	target: flux
	engines:
	  fal: { type: fal, url: "$FAKE_URL" }
	anchor:
	  items:
	    a: { file: a.png, caption: "smiling" }
	    b: { file: b.png, caption: "in a park" }
	package: { format: fal-zip }
	train: { steps: 1000 }
	validate:
	  scale: 0.8
	  seed: 7
	  items:
	    park: "walking in a park"
	    cafe: "reading in a cafe"
	EOF2
}
