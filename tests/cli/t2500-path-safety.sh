#!/bin/sh
# t2500: a recipe folder cannot turn loramake against the user's files
# (docs/security.md, Paths): clean removes only what loramake wrote, no
# write or read goes through a link, a package that cannot be written
# fails the build, gc waits for a running build before it marks what is
# live, and the temp files of a killed process are removed.
. "$(dirname "$0")/lib.sh"

# recipe DIR OUT [FORMAT]: a three-node preview recipe in DIR whose
# package goes to OUT (kohya unless FORMAT says otherwise).
recipe() {
	mkdir -p "$1" && cp "$SRC/recipes/jinx/keystones/hero.png" "$1/hero.png" &&
	cat >"$1/recipe.yaml" <<-EOF
	loramake: 1
	name: safe
	trigger: SAFECHAR
	engines: { gen: { type: preview } }
	hero: { file: hero.png }
	angle:
	  engine: gen
	  from: hero
	  items:
	    front: { caption: "seen from the front" }
	package: { size: 128, format: ${3:-kohya}, out: "$2" }
	EOF
}

# hold_lock DIR: hold DIR's build lock as a running build does, saying so
# in the file held, until the file go.now appears; then, still holding
# it, record what the "build" made (actions.saved, lock.saved) and let go.
hold_lock() {
	printf "%s\n" "echo held >held" "until test -e go.now; do sleep 0.05; done" \
		"cp actions.saved $1/.loramake/actions" "cp lock.saved $1/recipe.lock" \
		>holder.sh &&
	flock "$1/.loramake/build.lock" sh -e holder.sh
}

# paid DIR: a cache object and the lock are still there.
paid() {
	test -s "$1/.loramake/actions" && test -s "$1/recipe.lock" &&
	test "$(find "$1/.loramake/objects" -type f | wc -l)" -gt 0
}

test_expect_success 'out: . with format kohya: the build refuses before running anything' '
	recipe dot . &&
	expect_exit 1 lm dot/recipe.yaml >out 2>err &&
	grep "cannot write the package: the package out: .\.. is the recipe.s folder itself; nothing was run" err &&
	test ! -e dot/.loramake/actions
'
test_expect_success 'out: . : clean removes build/ and nothing else' '
	sed -i "s|out: \".\"|out: dist/k|" dot/recipe.yaml &&
	lm dot/recipe.yaml >out 2>err && paid dot &&
	sed -i "s|out: dist/k|out: .|" dot/recipe.yaml &&
	echo "{}" >dot/manifest.json &&
	expect_exit 1 lm clean dot/recipe.yaml >out 2>err &&
	grep "the package out: .\.. is the recipe.s folder itself; it is kept" err &&
	test -f dot/recipe.yaml && test -f dot/hero.png && paid dot &&
	test -d dot/dist/k && test ! -e dot/build
'
test_expect_success 'out: photos (the input folder): clean keeps the photos' '
	mkdir -p ph/photos && recipe ph photos &&
	mv ph/hero.png ph/photos/hero.png &&
	sed -i "s|file: hero.png|file: photos/hero.png|" ph/recipe.yaml &&
	echo "{}" >ph/photos/manifest.json &&
	expect_exit 1 lm clean ph/recipe.yaml >out 2>err &&
	grep "the package out: .photos. holds the input .photos/hero.png." err &&
	test -f ph/photos/hero.png &&
	expect_exit 1 lm ph/recipe.yaml >out 2>err &&
	grep "holds the input" err && test -f ph/photos/hero.png
'
test_expect_success 'out: .loramake and out: build are refused: the cache stays' '
	recipe lm dist/k && lm lm/recipe.yaml >out 2>err && paid lm &&
	for o in .loramake .loramake/objects build ./build/x; do
		sed -i "s|out: .*}|out: \"$o\" }|" lm/recipe.yaml &&
		expect_exit 1 lm clean lm/recipe.yaml >out 2>err &&
		grep "is loramake.s own" err || exit 1
	done &&
	paid lm
'
test_expect_success 'dist a link to a folder outside: clean removes nothing there' '
	recipe ln dist/k && mkdir -p outside/k && echo "{}" >outside/k/manifest.json &&
	echo mine >outside/k/precious && ln -s ../outside ln/dist &&
	expect_exit 1 lm clean ln/recipe.yaml >out 2>err &&
	grep "ln/dist. is a symbolic link" err &&
	test -f outside/k/precious
'
test_expect_success 'dist a link to outside: the build writes nothing there and fails' '
	expect_exit 1 lm ln/recipe.yaml >out 2>err &&
	grep "cannot write the package: .ln/dist. is a symbolic link" err &&
	test "$(ls outside/k)" = "$(printf "manifest.json\nprecious")" &&
	rm ln/dist && recipe lz "" fal-zip && sed -i "/out:/s/, out: \"\"//" lz/recipe.yaml &&
	ln -s ../outside lz/dist &&
	expect_exit 1 lm lz/recipe.yaml >out 2>err &&
	grep "lz/dist. is a symbolic link" err && test ! -e outside/safe.zip
'
test_expect_success 'dist a file: the build fails with a clear message' '
	rm lz/dist && echo "not a folder" >lz/dist &&
	expect_exit 1 lm lz/recipe.yaml >out 2>err &&
	grep "lz/dist. is not a folder" err && grep "not a folder" lz/dist
'
test_expect_success 'build/ and .loramake/ links to outside: nothing is written through them' '
	recipe bl dist/k && mkdir out_b out_c &&
	ln -s ../out_b bl/build &&
	lm bl/recipe.yaml >out 2>err &&
	grep "bl/build. is a symbolic link; .*no output is shown in build/" err &&
	test -z "$(ls out_b)" &&
	rm -r bl/build bl/.loramake bl/recipe.lock && ln -s ../out_c bl/.loramake &&
	expect_exit 1 lm bl/recipe.yaml >out 2>err &&
	grep "bl/.loramake. is a symbolic link" err && test -z "$(ls out_c)"
'
test_expect_success 'a state file planted as a link is never written through' '
	recipe st dist/k && lm st/recipe.yaml >out 2>err &&
	echo "keep me" >bashrc &&
	rm st/.loramake/actions && ln -s ../../bashrc st/.loramake/actions &&
	sed -i "s/size: 128/size: 256/" st/recipe.yaml &&
	expect_exit 1 lm st/recipe.yaml >out 2>err &&
	grep "FAILED package: .*st/.loramake/actions. is a symbolic link" err &&
	test "$(cat bashrc)" = "keep me" &&
	rm st/.loramake/actions && mv st/recipe.lock lock.saved &&
	ln -s ../bashrc st/recipe.lock &&
	expect_exit 2 lm st/recipe.yaml >out 2>err &&
	grep "recipe.lock. is a symbolic link" err &&
	test "$(cat bashrc)" = "keep me"
'
test_expect_success 'clean of a file that is not a recipe removes nothing' '
	mkdir -p proj/build && echo "int main(void) { return 0; }" >proj/main.c &&
	echo object >proj/build/main.o &&
	expect_exit 2 lm clean proj/main.c >out 2>err &&
	test -f proj/build/main.o
'
test_expect_success 'clean removes build/ and a package loramake wrote' '
	recipe ok dist/k && lm ok/recipe.yaml >out 2>err && test -f ok/dist/k/manifest.json &&
	lm clean ok/recipe.yaml >out 2>err &&
	test ! -e ok/build && test ! -e ok/dist/k && paid ok &&
	mkdir -p ok/dist/k && echo mine >ok/dist/k/notes &&
	expect_exit 1 lm clean ok/recipe.yaml >out 2>err &&
	grep "not a package loramake wrote" err && test -f ok/dist/k/notes
'
test_expect_success 'temp files of a dead process are removed, nothing else' '
	recipe tmp dist/k && lm tmp/recipe.yaml >out 2>err &&
	dead=$(sh -c "echo \$\$") &&
	echo partial >"tmp/recipe.lock.tmp.$dead" &&
	echo partial >"tmp/recipe.lock.tmp.$dead.Ab12Cd" &&
	echo partial >"tmp/.loramake/actions.tmp.$dead.x9Y8z7" &&
	echo live >"tmp/recipe.lock.tmp.$$.Ab12Cd" &&
	echo mine >"tmp/notes.tmp.$dead" &&
	mkdir "tmp/dist/k.tmp.$dead.Qw3rTy" && echo half >"tmp/dist/k.tmp.$dead.Qw3rTy/a.png" &&
	sed -i "s/size: 128/size: 256/" tmp/recipe.yaml &&
	lm tmp/recipe.yaml >out 2>err &&
	test ! -e "tmp/dist/k.tmp.$dead.Qw3rTy" &&
	test ! -e "tmp/recipe.lock.tmp.$dead" &&
	test ! -e "tmp/recipe.lock.tmp.$dead.Ab12Cd" &&
	test ! -e "tmp/.loramake/actions.tmp.$dead.x9Y8z7" &&
	test -f "tmp/recipe.lock.tmp.$$.Ab12Cd" && test -f "tmp/notes.tmp.$dead" &&
	echo partial >"tmp/recipe.lock.tmp.$dead" &&
	lm gc tmp/recipe.yaml >out 2>err && test ! -e "tmp/recipe.lock.tmp.$dead"
'
test_expect_success 'gc with .loramake/objects a link to outside deletes nothing there' '
	recipe gl dist/k && lm gl/recipe.yaml >out 2>err &&
	mkdir -p victim/ab && echo mine >victim/ab/cdef &&
	mv gl/.loramake/objects objects.saved && ln -s ../../victim gl/.loramake/objects &&
	lm gc gl/recipe.yaml >out 2>err &&
	test -f victim/ab/cdef
'
test_expect_success 'gc beside a build waits for it, then keeps all it made' '
	recipe gc dist/k && lm gc/recipe.yaml >out 2>err &&
	n0=$(find gc/.loramake/objects -type f | wc -l) &&
	cp gc/.loramake/actions actions.saved && cp gc/recipe.lock lock.saved &&
	# the moment a build holds the lock: objects made, not yet recorded
	head -n 1 actions.saved >gc/.loramake/actions && rm gc/recipe.lock &&
	{ hold_lock gc & } &&
	wait_for "test -e held" &&
	{ lm gc gc/recipe.yaml >gc.out 2>gc.err & } &&
	gcpid=$! &&
	wait_for "grep -q \"another build of this recipe is running\" gc.err" &&
	touch go.now &&
	wait $gcpid &&
	grep "gc: 0 objects dropped, $n0 kept" gc.out &&
	lm gc/recipe.yaml >out 2>err && grep "nothing to do" out
'
test_expect_success 'a .env named as file: is a recipe error, never sent' '
	recipe env dist/k && echo "FAL_KEY=sk-live-123" >env/.env &&
	sed -i "s|file: hero.png|file: .env|" env/recipe.yaml &&
	expect_exit 2 lm plan env/recipe.yaml >out 2>err &&
	grep "^env/recipe.yaml:5:15: error: .env/.env. is not an image" err &&
	! grep "sk-live" err out
'
test_expect_success 'an input that looks like a PNG but does not decode fails its nodes' '
	recipe bad dist/k && head -c 100 bad/hero.png >bad/cut.png &&
	sed -i "s|file: hero.png|file: cut.png|" bad/recipe.yaml &&
	expect_exit 1 lm bad/recipe.yaml >out 2>err &&
	grep "FAILED angle/front: the input hero (bad/cut.png) is not an image loramake can decode; nothing was sent" err
'
test_expect_success 'inputs through a link are refused: file:, a globbed folder, metadata.json' '
	recipe in dist/k && mkdir -p elsewhere/photos &&
	cp in/hero.png elsewhere/photos/a.png && echo "{\"a.png\": {\"caption\": \"SECRET-TEXT\"}}" >elsewhere/meta &&
	ln -s ../elsewhere/photos/a.png in/linked.png &&
	sed -i "s|file: hero.png|file: linked.png|" in/recipe.yaml &&
	expect_exit 2 lm plan in/recipe.yaml >out 2>err &&
	grep "error: .linked.png. is a symbolic link" err &&
	sed -i "s|file: linked.png|file: hero.png|" in/recipe.yaml &&
	printf "anchor:\n  files: photos/*.png\n" >>in/recipe.yaml &&
	ln -s ../elsewhere/photos in/photos &&
	expect_exit 2 lm plan in/recipe.yaml >out 2>err &&
	grep "error: .in/photos. is a symbolic link" err &&
	rm in/photos && mkdir in/photos && cp in/hero.png in/photos/a.png &&
	ln -s ../../elsewhere/meta in/photos/metadata.json &&
	expect_exit 2 lm plan in/recipe.yaml >out 2>err &&
	grep "error: .in/photos/metadata.json. is a symbolic link" err &&
	! grep SECRET-TEXT err out
'
test_done
