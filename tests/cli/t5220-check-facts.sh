#!/bin/sh
# t5220: check's per-image facts (sides, dHash) are cached by the image's
# hash in .loramake/facts (cache/facts.h): a check after a one-image edit
# decodes that image only, the figures are those of a check from scratch,
# a damaged or forged line is measured again, and gc keeps the facts of
# what it keeps.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	mkdir r &&
	for f in rgba.png exif6.png grey16a.png scene.png; do
		cp "$SRC/tests/data/images/$f" r/ || return 1
	done &&
	cat >r/recipe.yaml <<-EOF
	loramake: 1
	name: facts
	trigger: FACTCHAR
	target: flux2
	anchor:
	  items:
	    alpha: { file: rgba.png, expression: neutral, framing: closeup }
	    rotated: { file: exif6.png, expression: tired, framing: medium }
	    grey: { file: grey16a.png, expression: wary, framing: full }
	    scene: { file: scene.png, expression: furious, framing: back }
	package: { format: fal-zip, size: 64 }
	EOF
'

# judge NAME: lm check -v, its output in NAME.out (exit 1: a rule failed)
judge() {
	expect_exit 1 lm check -v r/recipe.yaml >"$1.out" 2>"$1.err"
}

test_expect_success 'the build measures every image once; a check then decodes none' '
	lm r/recipe.yaml >build.out 2>build.err &&
	test "$(grep -c "^[0-9a-f]\{32\}	" r/.loramake/facts)" -eq 4 &&
	judge warm &&
	grep "(0 images decoded, 4 measured before: .loramake/facts)" warm.out
'

test_expect_success 'a check after a one-image edit decodes that image only' '
	cp "$SRC/tests/data/images/scene_bright.png" r/scene.png &&
	judge edit &&
	grep "(1 image decoded, 3 measured before: .loramake/facts)" edit.out &&
	judge again &&
	grep "(0 images decoded, 4 measured before" again.out
'

test_expect_success 'and its figures are those of a check with no facts' '
	rm r/.loramake/facts &&
	judge scratch &&
	grep "(4 images decoded, 0 measured before" scratch.out &&
	grep -v "images\? decoded" edit.out >a &&
	grep -v "images\? decoded" scratch.out >b &&
	diff a b
'

test_expect_success 'a forged, damaged or torn line is measured again, a bad header starts over' '
	h=$(sed -n "2s/	.*//p" r/.loramake/facts) &&
	sed -i "2s/	[0-9]*	/	0	/" r/.loramake/facts &&
	printf "nonsense\n" >>r/.loramake/facts &&
	printf "%s\t64\t64\tzz" "$h" >>r/.loramake/facts &&
	judge forged &&
	grep "(1 image decoded, 3 measured before" forged.out &&
	sed -i "1s/v1/v9/" r/.loramake/facts &&
	judge header &&
	grep "(4 images decoded, 0 measured before" header.out &&
	head -n 1 r/.loramake/facts | grep -x "# loramake facts v1"
'

test_expect_success 'gc keeps the facts of the images it keeps' '
	lm r/recipe.yaml >b2.out 2>b2.err &&
	lm gc r/recipe.yaml >gc.out 2>gc.err &&
	judge aftergc &&
	grep "(0 images decoded, 4 measured before" aftergc.out
'

test_done
