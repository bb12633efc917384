# gemini-lib.sh: helpers for the t33xx-gemini-*.sh tests, sourced after
# lib.sh. fake_stat, fake_bodies, fake_control, check_pngs and no_secret
# are fal-lib.sh's (they speak to $FAKE_URL, whichever fake).
#
#   start_gemini [FLAGS...]  tests/fake/gemini_fake.py on a free port,
#                            expecting $GEMINI_TEST_KEY; sets FAKE_URL
#   gem_recipe DIR [MODEL]   a recipe of six Gemini edits of one hero
#                            (hero -> angle/*), pointed at the fake
#   gem_pending DIR          calls DIR/.loramake/pending has in flight
#   gem_inflight             calls the fake holds now
. "$(dirname "$0")/fal-lib.sh"
GEMINI_TEST_KEY=AIza-SECRET-789

start_gemini() {
	python3 "$SRC/tests/fake/gemini_fake.py" --port 0 \
		--key "$GEMINI_TEST_KEY" --log "$TRASH/fake.log" "$@" \
		>"$TRASH/fake.out" 2>"$TRASH/fake.err" &
	_fake_pid=$!
	at_exit "kill $_fake_pid 2>/dev/null; wait $_fake_pid 2>/dev/null" &&
	if ! wait_for "grep -q '^PORT ' '$TRASH/fake.out'"; then
		echo "the fake Gemini server did not start" >&2
		cat "$TRASH/fake.err" >&2
		return 1
	fi
	FAKE_URL=http://127.0.0.1:$(awk '/^PORT /{print $2}' "$TRASH/fake.out")
}

gem_recipe() {
	mkdir -p "$1" && cp "$SRC/recipes/jinx/keystones/hero.png" "$1/" &&
	cat >"$1/recipe.yaml" <<-EOF2
	loramake: 1
	name: gem
	trigger: GEMCHAR
	target: flux2
	engines:
	  gem: { type: gemini, url: "$FAKE_URL", concurrency: 8 }
	hero: { file: hero.png }
	angle:
	  engine: gem
	  model: ${2:-gemini-2.5-flash-image}
	  from: hero
	  prompt: "the same woman, {item}, same face, photographic skin texture"
	  params: { aspect_ratio: "1:1" }
	  items:
	    front:    { caption: "seen from the front", framing: medium }
	    closeup:  { caption: "in a close-up from the front", framing: closeup }
	    left:     { caption: "in left profile", framing: medium }
	    right:    { caption: "in right profile", framing: medium }
	    low:      { caption: "seen from below, camera looking up", framing: full }
	    back:     { caption: "seen from behind", framing: back }
	caption: { }
	package: { format: kohya, size: 256, out: dist/gem }
	EOF2
}

gem_pending() {
	if [ -e "$1/.loramake/pending" ]; then
		python3 - "$1/.loramake/pending" <<-'PY'
		import sys
		last = {}
		for line in open(sys.argv[1]):
		    f = line.rstrip("\n").split("\t")
		    if len(f) == 3:
		        last[(f[0], f[1])] = f[2]
		print(sum(1 for v in last.values() if v))
		PY
	else
		echo 0
	fi
}

gem_inflight() { fake_stat 'd["inflight"]'; }
