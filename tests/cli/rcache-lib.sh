# rcache-lib.sh: a team cache for the t36xx-remote-cache tests, sourced
# after lib.sh: a real nginx with WebDAV on loopback (tests/nginx-dav.conf).
#
#   start_nginx          nginx on a free port; sets CACHE_URL, exports
#                        LORAMAKE_REMOTE_CACHE and the header; its files
#                        under $TRASH/nginx (cache/ac, cache/cas); stopped
#                        when the script ends. Call it outside test bodies.
#   stop_nginx           stop it (and wait until it is gone)
#   free_port            a TCP port nothing listens on (now)
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

stop_nginx() {
	kill "$_nginx_pid" &&
	wait_for "! curl --noproxy \"*\" -s -o /dev/null '$CACHE_URL/'"
}
