#!/bin/sh
# t5210: a package's images are normalised as cached steps
# (runtime/normalise.h): after a one-image edit the package normalises
# exactly that image (the build's "package:" line counts them) and its ZIP,
# or its trainer folder, is byte-identical to one built from scratch; gc
# keeps the normalised images the package reads now.
. "$(dirname "$0")/lib.sh"

# four images that need normalising; scene.png is the one edited
test_expect_success 'setup' '
	mkdir r &&
	for f in rgba.png exif6.png grey16a.png scene.png; do
		cp "$SRC/tests/data/images/$f" r/ || return 1
	done &&
	cat >r/recipe.yaml <<-EOF
	loramake: 1
	name: inc
	trigger: INCCHAR
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

# build DIR: build DIR/recipe.yaml, its stderr in DIR.err
build() {
	lm "$1/recipe.yaml" >"$1.out" 2>"$1.err" &&
	grep "dataset: $1/dist/inc.zip" "$1.out"
}

# fresh NAME: a copy of r with its sources only (no cache, lock or package)
fresh() {
	mkdir "$1" &&
	cp r/recipe.yaml r/*.png "$1"/
}

test_expect_success 'the first package normalises every image' '
	build r &&
	grep "^package: 4 images normalised, 0 from the cache$" r.err
'

test_expect_success 'after a one-image edit the package normalises that image only' '
	cp "$SRC/tests/data/images/scene_bright.png" r/scene.png &&
	build r &&
	grep "^package: 1 image normalised, 3 from the cache$" r.err
'

test_expect_success 'and its ZIP is byte-identical to one built from scratch' '
	fresh scratch &&
	build scratch &&
	grep "^package: 4 images normalised, 0 from the cache$" scratch.err &&
	cmp r/dist/inc.zip scratch/dist/inc.zip
'

test_expect_success 'the ZIP stores its PNGs as they are and deflates the text' '
	python3 - r/dist/inc.zip <<-PY
	import sys, zipfile
	z = zipfile.ZipFile(sys.argv[1])
	assert z.testzip() is None
	names = [i.filename for i in z.infolist()]
	assert len([n for n in names if n.endswith(".png")]) == 4, names
	for i in z.infolist():
	    want = zipfile.ZIP_STORED if i.filename.endswith(".png") else zipfile.ZIP_DEFLATED
	    assert i.compress_type == want, (i.filename, i.compress_type)
	PY
'

test_expect_success 'gc keeps the normalised images the package reads now' '
	lm gc r/recipe.yaml >gc.out 2>gc.err &&
	sed -i "s/size: 64 }/size: 64, repeats: 3 }/" r/recipe.yaml &&
	build r &&
	grep "^package: 0 images normalised, 4 from the cache$" r.err
'

test_expect_success 'a kohya folder after a one-image edit is the one built from scratch' '
	sed -i "s/format: fal-zip, size: 64, repeats: 3/format: kohya, size: 64, out: dist\/k/" \
		r/recipe.yaml &&
	lm r/recipe.yaml >k1.out 2>k1.err &&
	grep "^package: 0 images normalised, 4 from the cache$" k1.err &&
	cp "$SRC/tests/data/images/rgba_on_white.png" r/rgba.png &&
	lm r/recipe.yaml >k2.out 2>k2.err &&
	grep "^package: 1 image normalised, 3 from the cache$" k2.err &&
	fresh kscratch &&
	lm kscratch/recipe.yaml >k3.out 2>k3.err &&
	diff -r r/dist/k kscratch/dist/k
'

# inodes DIR: "INODE LINKS PATH" of every PNG under DIR, sorted by path
inodes() {
	find "$1" -name "*.png" -exec stat -c "%i %h %n" {} + | sort -k3
}

test_expect_success 'a one-image edit writes one file of the folder: the rest are the same files, one name each, no temp left' '
	inodes r/dist/k >before &&
	test "$(wc -l <before)" -eq 4 &&
	cp "$SRC/tests/data/images/dhash9x8.png" r/grey16a.png &&
	lm r/recipe.yaml >k4.out 2>k4.err &&
	grep "^package: 1 image normalised, 3 from the cache$" k4.err &&
	inodes r/dist/k >after &&
	join -1 3 -2 3 before after >both &&
	test "$(wc -l <both)" -eq 4 &&
	awk "\$2 != \$4" both >changed &&
	test "$(wc -l <changed)" -eq 1 &&
	grep -q grey changed &&
	awk "\$3 != 1 || \$5 != 1" both >multi &&
	test ! -s multi &&
	ls r/dist >dist &&
	! grep "\.tmp\." dist
'

test_expect_success 'a package file edited by hand is copied afresh, never linked' '
	f=$(find r/dist/k -name "*.png" ! -name "*grey*" | head -n 1) &&
	printf x >>"$f" &&
	cp "$SRC/tests/data/images/grey16a.png" r/grey16a.png &&
	lm r/recipe.yaml >k5.out 2>k5.err &&
	fresh kscratch2 &&
	lm kscratch2/recipe.yaml >k6.out 2>k6.err &&
	diff -r r/dist/k kscratch2/dist/k
'

test_done
