# local-lib.sh: helpers for the t32xx tests of the engines on the user's
# own GPU server (a1111, comfyui), sourced after lib.sh. fake_stat,
# fake_bodies, fake_control, check_pngs and no_secret are fal-lib.sh's
# (they speak to $FAKE_URL, whichever fake).
#
#   start_local NAME [FLAGS...]  tests/fake/NAME_fake.py on a free port;
#                                sets FAKE_URL
#   point_at RECIPE ENGINE URL   set the url: of the recipe's ENGINE entry
#   dead_url                     a loopback URL where nothing listens
. "$(dirname "$0")/fal-lib.sh"

start_local() {
	_name=$1
	shift
	python3 "$SRC/tests/fake/${_name}_fake.py" --port 0 --log "$TRASH/fake.log" "$@" \
		>"$TRASH/fake.out" 2>"$TRASH/fake.err" &
	_fake_pid=$!
	at_exit "kill $_fake_pid 2>/dev/null; wait $_fake_pid 2>/dev/null" &&
	if ! wait_for "grep -q '^PORT ' '$TRASH/fake.out'"; then
		echo "the fake $_name server did not start" >&2
		cat "$TRASH/fake.err" >&2
		return 1
	fi
	FAKE_URL=http://127.0.0.1:$(awk '/^PORT /{print $2}' "$TRASH/fake.out")
}

point_at() {
	sed -i "s|^  $2: { type: \([a-z0-9]*\)\(.*\) }|  $2: { type: \1, url: \"$3\"\2 }|" "$1" &&
	grep -q "^  $2: { type: [a-z0-9]*, url: \"$3\"" "$1"
}

# A port nothing listens on: bound, then closed, by this process.
dead_url() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print("http://127.0.0.1:%d" % s.getsockname()[1])'
}
