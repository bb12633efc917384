#!/bin/sh
# Install what building and testing loramake needs on Debian 12, if it is
# missing. Safe to run again: it installs nothing when all is there.
#
#   sh tests/deps.sh         build and make check
#   sh tests/deps.sh fuzz    also clang and its libFuzzer runtime (make fuzz)
set -e
pkgs="build-essential pkg-config libyaml-dev libxxhash-dev libcurl4-openssl-dev
libarchive-dev libpcre2-dev libjansson-dev libvips-dev libmicrohttpd-dev libcmocka-dev python3 unzip
xxhash zsh man-db groff-base curl"
# CLANG=1: also clang and its sanitizer runtime, for `sh tests/check.sh
# CC=clang` (CI runs gcc; see README)
[ "${CLANG:-0}" = 1 ] && pkgs="$pkgs clang libclang-rt-14-dev"
[ "${1:-}" = fuzz ] && pkgs="$pkgs clang libclang-rt-14-dev"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
