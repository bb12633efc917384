#!/bin/sh
# t2510: the edits users make most often re-buy nothing (docs/keys.md,
# "Assignments that stick"): on recipes/jinx, adding, removing or
# reordering list entries changes no existing image's key, and adding an
# environment moves only the images needed to balance it. The package
# lists every image, so it changes with any of these; it is not counted.
. "$(dirname "$0")/lib.sh"
pj() { python3 "$SRC/tests/data/planjson.py" "$@"; }

# reverse_lists FILE: the angle items, expression items and environments
# of jinx in the opposite order.
reverse_lists() {
	python3 - "$1" <<-\PY
	import re, sys
	lines = open(sys.argv[1]).read().split("\n")
	def rev(first, inside):
	    i = next(i for i, l in enumerate(lines) if l.startswith(first))
	    j = i
	    while j < len(lines) and inside(lines[j]):
	        j += 1
	    lines[i:j] = lines[i:j][::-1]
	rev("    front:", lambda l: re.match(r"^    [a-z_]+: +\{", l))
	rev("    neutral:", lambda l: re.match(r'^    [a-z]+: +"', l))
	rev("    - { place", lambda l: l.startswith("    - { place"))
	sys.stdout.write("\n".join(lines))
	PY
}

# changed_images A B: the keys of A that B changes, package left out.
changed_images() { pj kept "$1" "$2" | grep -v "^package$" || true; }

test_expect_success 'a fresh plan spreads the 8 environments over the 21 edits within one' '
	copy_recipe jinx &&
	lm plan --json jinx/recipe.yaml >fresh.json &&
	pj envs fresh.json >envs &&
	test "$(wc -l <envs)" -eq 8 &&
	test "$(awk "{ s += \$1 } END { print s }" envs)" -eq 21 &&
	min=$(head -n 1 envs | cut -d" " -f1) && max=$(tail -n 1 envs | cut -d" " -f1) &&
	test $((max - min)) -le 1
'
test_expect_success 'a preview build records every assignment in the lock' '
	lm --engine preview build jinx/recipe.yaml >build.out 2>&1 &&
	test "$(grep -c "^env expression/" jinx/recipe.lock)" -eq 21 &&
	lm plan --json jinx/recipe.yaml >base.json &&
	pj changed fresh.json base.json >changed && test ! -s changed
'
test_expect_success 'adding an expression item second in the list changes 0 keys' '
	sed "/^    tired:/i\\    sleepy:  \"sleepy — drooping eyelids, slow blink\"" \
		jinx/recipe.yaml >jinx/added.yaml &&
	grep -q "^    sleepy:" jinx/added.yaml &&
	cp jinx/recipe.lock jinx/added.lock &&
	lm plan --json jinx/added.yaml >added.json &&
	test "$(grep -c "\"id\":\"expression/[a-z_]*/sleepy\"" added.json)" -eq 3 &&
	changed_images base.json added.json >changed && test ! -s changed
'
test_expect_success 'removing an expression item changes 0 keys' '
	sed "/^    wary:/d" jinx/recipe.yaml >jinx/removed.yaml &&
	cp jinx/recipe.lock jinx/removed.lock &&
	lm plan --json jinx/removed.yaml >removed.json &&
	! grep -q "/wary\"" removed.json &&
	changed_images base.json removed.json >changed && test ! -s changed
'
test_expect_success 'reversing angles, expressions and environments changes 0 keys' '
	reverse_lists jinx/recipe.yaml >jinx/reversed.yaml &&
	! cmp -s jinx/recipe.yaml jinx/reversed.yaml &&
	cp jinx/recipe.lock jinx/reversed.lock &&
	lm plan --json jinx/reversed.yaml >reversed.json &&
	changed_images base.json reversed.json >changed && test ! -s changed
'
test_expect_success 'adding an environment moves at most 3 images (9 keys), each said why' '
	sed "/^    - { place: \"a dim engine room\"/i\\    - { place: \"a desert highway\", light: \"harsh noon sun\" }" \
		jinx/recipe.yaml >jinx/env9.yaml &&
	cp jinx/recipe.lock jinx/env9.lock &&
	lm plan --json jinx/env9.yaml >env9.json &&
	changed_images base.json env9.json >changed &&
	test -s changed && test "$(wc -l <changed)" -le 9 &&
	grep "^expression/" changed >moved &&
	test "$(wc -l <moved)" -le 3 &&
	pj states env9.json >states &&
	while read -r id; do
		grep "^$id stale .*environment reassigned" states || exit 1
	done <moved &&
	pj envs env9.json >envs &&
	test "$(wc -l <envs)" -eq 9 &&
	min=$(head -n 1 envs | cut -d" " -f1) && max=$(tail -n 1 envs | cut -d" " -f1) &&
	test $((max - min)) -le 1
'
test_expect_success 'explain names the environment an edit was given' '
	id=$(head -n 1 moved) &&
	lm explain jinx/env9.yaml "$id" >explain &&
	grep "environment reassigned" explain &&
	grep "^  environment: a desert highway, harsh noon sun (reassigned" explain
'

test_done
