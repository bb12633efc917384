#!/bin/sh
# Install what building and testing loramake needs on Debian 12, if it is
# missing: Debian packages, then the npm packages of tests/browser/ (the
# review page driven in Debian's chromium). Safe to run again: it
# installs nothing when all is there.
#
#   sh tests/deps.sh         build and make check
#   sh tests/deps.sh fuzz    also clang and its libFuzzer runtime (make fuzz)
set -e
pkgs="build-essential pkg-config libyaml-dev libxxhash-dev libcurl4-openssl-dev
libarchive-dev libpcre2-dev libjansson-dev libvips-dev libmicrohttpd-dev libcmocka-dev python3 unzip
xxhash zsh man-db groff-base nginx curl chromium"
# Node.js and npm, for tests/browser/: Debian's, unless a node with its
# npm is there already (a nodesource node ships npm inside it)
command -v npm >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
# CLANG=1: also clang and its sanitizer runtime, for `sh tests/check.sh
# CC=clang` (CI runs gcc; see README)
[ "${CLANG:-0}" = 1 ] && pkgs="$pkgs clang libclang-rt-14-dev"
[ "${1:-}" = fuzz ] && pkgs="$pkgs clang libclang-rt-14-dev"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
# playwright-core, as package-lock.json pins it (it drives /usr/bin/chromium;
# it downloads no browser of its own)
cd "$(dirname "$0")/browser"
pinned='const fs = require("fs"), v = (f) => JSON.parse(fs.readFileSync(f));
if (v("node_modules/playwright-core/package.json").version !==
    v("package-lock.json").packages["node_modules/playwright-core"].version) process.exit(1)'
if ! node -e "$pinned" 2>/dev/null; then
	echo "installing: tests/browser/ (npm ci)"
	npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
