# replicate-lib.sh: helpers for the t31xx-replicate-*.sh tests, sourced
# after lib.sh. fake_stat, fake_bodies, fake_control, check_pngs and
# no_secret are fal-lib.sh's (they speak to $FAKE_URL, whichever fake).
#
#   start_replicate [FLAGS...]  tests/fake/replicate_fake.py on a free port,
#                               expecting $REPLICATE_TEST_KEY; sets FAKE_URL
#   use_replicate RECIPE [CONC] point the recipe's `rep:` engine at the fake
#   maya_pending                requests maya/.loramake/pending records
. "$(dirname "$0")/fal-lib.sh"
REPLICATE_TEST_KEY=r8-SECRET-456

start_replicate() {
	python3 "$SRC/tests/fake/replicate_fake.py" --port 0 \
		--key "$REPLICATE_TEST_KEY" --log "$TRASH/fake.log" "$@" \
		>"$TRASH/fake.out" 2>"$TRASH/fake.err" &
	_fake_pid=$!
	at_exit "kill $_fake_pid 2>/dev/null; wait $_fake_pid 2>/dev/null" &&
	if ! wait_for "grep -q '^PORT ' '$TRASH/fake.out'"; then
		echo "the fake Replicate server did not start" >&2
		cat "$TRASH/fake.err" >&2
		return 1
	fi
	FAKE_URL=http://127.0.0.1:$(awk '/^PORT /{print $2}' "$TRASH/fake.out")
}

use_replicate() {
	sed -i "s|^  rep: {.*}|  rep: { type: replicate, url: \"$FAKE_URL\", concurrency: ${2:-8} }|" "$1" &&
	grep -q "url: \"$FAKE_URL\"" "$1"
}

maya_pending() { if [ -e maya/.loramake/pending ]; then grep -c "	" maya/.loramake/pending || true; else echo 0; fi; }
