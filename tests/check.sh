#!/bin/sh
# The README's test command: build the sanitizer binaries and run every
# test, so that the last line printed is always run.sh's summary,
# "N passed, N failed" (`make check` runs the same tests, but after a
# failure make prints its own "Error 1" line below the summary). Exits
# non-zero if anything failed. Arguments go to make:
#
#   sh tests/check.sh              gcc, objects in obj-san/
#   sh tests/check.sh CC=clang     clang, objects in obj-san-clang/
set -u
cd "$(dirname "$0")/.." || exit 2
make -s -j2 "$@" check-build || exit 2
sandir=$(make -s "$@" print-sandir) || exit 2
LORAMAKE=$PWD/$sandir/loramake UNIT_DIR=$PWD/$sandir/tests exec sh tests/run.sh
