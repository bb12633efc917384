# rcache-lib.sh: a team cache for the t36xx-remote-cache tests, sourced
# after lib.sh: a real nginx with WebDAV on loopback (tests/nginx-dav.conf).
#
#   start_nginx          nginx on a free port; sets CACHE_URL, exports
#                        LORAMAKE_REMOTE_CACHE and the header; its files
#                        under $TRASH/nginx (cache/ac, cache/cas); stopped
#                        when the script ends. Call it outside test bodies.
#   stop_nginx           stop it (and wait until it is gone)
#   free_port            a TCP port nothing listens on (now)
#   object_sha256 DIR H  the SHA-256 (the name on the wire) of object H in
#                        DIR's store
#   encode_ac ARGS       an ActionResult record on stdout (tests/fake/
#                        bazel_remote_fake.py encode-ac)
#   start_bazel_remote [ARGS]  the bazel-remote fake; sets BAZEL_URL
#   bazel_stat EXPR      EXPR of the fake's /_stats (d)
CACHE_AUTH="Bearer team-SECRET-987"
CACHE_URL=
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
_nginx_pid=

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_nginx() {
	_pre=$TRASH/nginx
	_port=$(free_port) &&
	CACHE_URL=http://127.0.0.1:$_port &&
	mkdir -p "$_pre/cache" &&
	sed -e "s|@PREFIX@|$_pre|g" -e "s|@PORT@|$_port|g" -e "s|@USER@|$(id -un)|g" \
		-e "s|@AUTH@|$CACHE_AUTH|g" "$SRC/tests/nginx-dav.conf" >"$_pre/nginx.conf" ||
		return 1
	"$NGINX" -p "$_pre" -c "$_pre/nginx.conf" -g "daemon off;" 2>"$_pre/stderr" &
	_nginx_pid=$!
	at_exit "kill $_nginx_pid 2>/dev/null; wait $_nginx_pid 2>/dev/null"
	# it answers (401 without the header) once it listens
	if ! wait_for "curl --noproxy \"*\" -s -o /dev/null -w '%{http_code}' '$CACHE_URL/' | grep -q 401"; then
		echo "nginx did not start" >&2
		cat "$_pre/stderr" "$_pre/error.log" >&2
		return 1
	fi
	export LORAMAKE_REMOTE_CACHE=$CACHE_URL
	export LORAMAKE_REMOTE_CACHE_HEADER="Authorization: $CACHE_AUTH"
}

object_sha256() {
	sha256sum <"$1/.loramake/objects/$(echo "$2" | cut -c1-2)/$(echo "$2" | cut -c3-)" |
		cut -c1-64
}

encode_ac() {
	python3 "$SRC/tests/fake/bazel_remote_fake.py" encode-ac "$@"
}

start_bazel_remote() {
	rm -f "$TRASH/bazel-remote.out" || return 1
	python3 "$SRC/tests/fake/bazel_remote_fake.py" "$@" \
		>"$TRASH/bazel-remote.out" 2>"$TRASH/bazel-remote.err" &
	_bazel_pid=$!
	at_exit "kill $_bazel_pid 2>/dev/null; wait $_bazel_pid 2>/dev/null"
	if ! wait_for "grep -q '^PORT ' '$TRASH/bazel-remote.out'"; then
		cat "$TRASH/bazel-remote.err" >&2
		return 1
	fi
	BAZEL_URL=http://127.0.0.1:$(sed -n 's/^PORT //p' "$TRASH/bazel-remote.out")
}

bazel_stat() {
	curl --noproxy "*" -sf "$BAZEL_URL/_stats" |
		python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"
}

stop_nginx() {
	kill "$_nginx_pid" &&
	wait_for "! curl --noproxy \"*\" -s -o /dev/null '$CACHE_URL/'"
}
