#!/bin/sh
# t0002: the module rules of docs/ARCHITECTURE.md, checked on the sources:
# each third-party library has one owner file, and modules include only
# headers of modules to their left (base <- compiler <- cache <- runtime
# <- quality <- cli).
. "$(dirname "$0")/lib.sh"

# only_in HEADER-REGEX ALLOWED-FILES...: fail if another file includes it
only_in() {
	pat=$1
	shift
	found=$(cd "$SRC" && grep -lE "#include <$pat>" base/*.[ch] compiler/*.[ch] \
		cache/*.[ch] runtime/*.[ch] runtime/engines/*.[ch] quality/*.[ch] cli/*.[ch])
	for f in $found; do
		case " $* " in
		*" $f "*) ;;
		*) echo "$f includes <$pat>" && return 1 ;;
		esac
	done
}

test_expect_success 'libyaml only in compiler/ytree.c' 'only_in "yaml\.h" compiler/ytree.c'
test_expect_success 'xxHash only in base/hash.c' 'only_in "xxhash\.h" base/hash.c'
test_expect_success 'PCRE2 only in quality/lint.c' 'only_in "pcre2\.h" quality/lint.c'
test_expect_success 'libcurl only in runtime/http.c' 'only_in "curl/curl\.h" runtime/http.c'
test_expect_success 'libvips only in runtime/image.c' 'only_in "vips/vips\.h" runtime/image.c'
test_expect_success 'libarchive only in runtime/pack.c' \
	'only_in "archive(_entry)?\.h" runtime/pack.c'
test_expect_success 'libmicrohttpd only in runtime/httpd.c' 'only_in "microhttpd\.h" runtime/httpd.c'
test_expect_success 'jansson only in engines, plan, check, review and vision captions' '
	only_in "jansson\.h" runtime/engines/fal.c runtime/engines/replicate.c runtime/engines/a1111.c runtime/engines/gemini.c \
		runtime/engines/comfyui.c \
		runtime/engines/builtin.c cli/plan.c cli/check.c cli/review.c quality/check.c quality/vision.c
'
test_expect_success 'no loramake header speaks a library type' '
	cd "$SRC" &&
	! grep -lE "#include <(yaml|xxhash|pcre2|curl/curl|vips/vips|archive|jansson|microhttpd)\.h>" \
		base/*.h compiler/*.h cache/*.h runtime/*.h quality/*.h cli/*.h
'
# deps_left DIR FORBIDDEN...: DIR includes none of the folders named
deps_left() {
	dir=$1
	shift
	for f in "$@"; do
		if (cd "$SRC" && grep -nE "#include \"$f/" $dir/*.[ch] 2>/dev/null); then
			return 1
		fi
	done
}
test_expect_success 'base includes no other module' 'deps_left base compiler cache runtime quality cli'
test_expect_success 'compiler includes only base' 'deps_left compiler cache runtime quality cli'
test_expect_success 'cache includes only base and compiler' 'deps_left cache runtime quality cli'
test_expect_success 'runtime includes neither quality nor cli' '
	deps_left runtime quality cli && deps_left runtime/engines quality cli
'
test_expect_success 'quality never includes cli' 'deps_left quality cli'
test_expect_success 'a plan or no-op links no lazy library' '
	! ldd "$LORAMAKE" | grep -E "libvips|libcurl|libarchive|libmicrohttpd"
'
test_done
