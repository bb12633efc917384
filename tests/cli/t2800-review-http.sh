#!/bin/sh
# t2800: the HTTP contract of loramake review: it listens on 127.0.0.1
# only and prints its address with a token; every request needs the token
# (403), a Host other than the loopback address and port is refused (DNS
# rebinding), the lock changes only by POST with the token in the header,
# images are served by object hash only (no path, no unknown hash, no
# node id that is not an image), check's report is its own request, and a pick, keep, drop, reroll and undo
# made there are lines of recipe.lock written as `loramake pick` and
# `loramake reroll` write them.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || {
	echo "t2800 needs curl (sh tests/deps.sh installs it)" >&2
	exit 1
}

# start_review: serve fitmannequin; $url, $port and $tok from its line
start_review() {
	{ "$LORAMAKE" review --engine preview --no-open fitmannequin >srv.out 2>srv.err & } &&
	echo $! >srv.pid &&
	wait_for "grep -q '^review: http://127.0.0.1:[0-9]*/?token=[0-9a-f]\{32\}$' srv.out"
}
url() { sed -n 's/^review: \(http.*\)$/\1/p' "$TRASH/srv.out"; }
tok() { url | sed 's/.*token=//'; }
port() { url | sed 's|^http://127.0.0.1:\([0-9]*\)/.*|\1|'; }
base() { echo "http://127.0.0.1:$(port)"; }
# code ARGS...: the status curl gets (body in body.txt)
code() { curl -s -o body.txt -w "%{http_code}" "$@"; }
state() { curl -sf "$(base)/api/state?token=$(tok)"; }
# post PATH: a POST with the token in its header; the status
post() { code -X POST -H "X-Loramake-Token: $(tok)" "$(base)$1"; }
# first_out: the hash of the first built image in the state
first_out() {
	state | python3 -c 'import json,sys; print([n for n in json.load(sys.stdin)["nodes"] if n["outs"]][0]["outs"][0])'
}
# field ID KEY: the state's KEY of node ID, as JSON; top KEY: of the state
field() {
	state | python3 -c 'import json, sys; d = json.load(sys.stdin); print(json.dumps([n for n in d["nodes"] if n["id"] == sys.argv[1]][0][sys.argv[2]]))' "$1" "$2"
}
top() { state | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)[sys.argv[1]]))' "$1"; }
stop_review() { signal_build TERM "$(cat "$TRASH/srv.pid")"; }

test_expect_success 'setup: fitmannequin built with the preview engine, served' '
	copy_recipe fitmannequin &&
	expect_exit 3 lm --engine preview fitmannequin >build.out 2>build.err &&
	start_review
'
at_exit 'test -d "/proc/$(cat "$TRASH/srv.pid")" && stop_review'

test_expect_success 'it listens on 127.0.0.1 only' '
	hex=$(printf "%04X" "$(port)") &&
	awk -v p=":$hex\$" "\$4 == \"0A\" && \$2 ~ p { print \$2 }" /proc/net/tcp >listen.txt &&
	test "$(cat listen.txt)" = "0100007F:$hex" &&
	awk -v p=":$hex\$" "\$4 == \"0A\" && \$2 ~ p { print \$2 }" /proc/net/tcp6 >listen6.txt &&
	! test -s listen6.txt
'
test_expect_success 'the page and the state need the token: 403 without it or with another' '
	test "$(code "$(url)")" = 200 &&
	grep -q "<html" body.txt &&
	test "$(code "$(base)/")" = 403 &&
	test "$(code "$(base)/api/state")" = 403 &&
	test "$(code "$(base)/api/state?token=00000000000000000000000000000000")" = 403 &&
	test "$(code "$(base)/api/state?token=$(tok)x")" = 403 &&
	test "$(code -H "X-Loramake-Token: $(tok)" "$(base)/api/state")" = 200
'
test_expect_success 'a Host other than 127.0.0.1:PORT or localhost:PORT is refused (DNS rebinding)' '
	test "$(code -H "Host: evil.example:$(port)" "$(url)")" = 403 &&
	grep -q "answers only to 127.0.0.1:$(port) or localhost:$(port)" body.txt &&
	test "$(code -H "Host: 127.0.0.1:1" "$(url)")" = 403 &&
	test "$(code -H "Host: localhost:$(port)" "$(url)")" = 200
'
test_expect_success 'a change needs a POST with the token in the header, not in the query' '
	test "$(code -X POST "$(base)/api/keep?node=angle/curl/1&token=$(tok)")" = 403 &&
	grep -q "X-Loramake-Token header" body.txt &&
	test "$(code "$(base)/api/keep?node=angle/curl/1&token=$(tok)")" = 405 &&
	test "$(code -X PUT -H "X-Loramake-Token: $(tok)" "$(base)/api/keep?node=angle/curl/1")" = 405 &&
	test "$(code -X POST -H "X-Loramake-Token: $(tok)" "$(base)/api/state")" = 405 &&
	! grep -q "^pick angle/curl/1" fitmannequin/recipe.lock
'
test_expect_success 'images by object hash only: a path, a bad hash or an unknown one is refused' '
	h=$(first_out) &&
	test "$(code "$(base)/obj/$h?token=$(tok)")" = 200 &&
	test "$(code "$(base)/thumb/$h?token=$(tok)")" = 200 &&
	python3 -c "import struct,sys; d=open(\"body.txt\",\"rb\").read(); w,h=struct.unpack(\">II\",d[16:24]); sys.exit(max(w,h)!=256)" &&
	test "$(code --path-as-is "$(base)/obj/../../recipe.yaml?token=$(tok)")" = 400 &&
	grep -q "never by a path" body.txt &&
	test "$(code --path-as-is "$(base)/obj/..%2f..%2frecipe.yaml?token=$(tok)")" = 400 &&
	test "$(code "$(base)/obj/$(echo $h | tr a-f A-F)?token=$(tok)")" = 400 &&
	test "$(code "$(base)/obj/00000000000000000000000000000000?token=$(tok)")" = 404 &&
	test "$(code --path-as-is "$(base)/../recipe.lock?token=$(tok)")" = 404 &&
	test "$(code "$(base)/build/anchor/front?token=$(tok)")" = 404
'
test_expect_success 'a thumbnail is an object in the store, made once' '
	h=$(first_out) &&
	n=$(lines_in fitmannequin/.loramake/actions) &&
	test "$(code "$(base)/thumb/$h?token=$(tok)")" = 200 &&
	test "$(lines_in fitmannequin/.loramake/actions)" = "$n"
'
test_expect_success 'unknown node ids and bad candidates are refused; the lock is unchanged' '
	cp fitmannequin/recipe.lock before.lock &&
	test "$(post "/api/pick?node=anchor/nope&n=1")" = 404 &&
	test "$(post "/api/pick?node=../recipe.yaml&n=1")" = 404 &&
	test "$(post "/api/pick?node=caption/curl/1&n=1")" = 404 &&
	test "$(post "/api/pick?node=anchor/front&n=11")" = 400 &&
	test "$(post "/api/pick?node=anchor/front&n=0")" = 400 &&
	test "$(post "/api/pick?node=anchor/front")" = 400 &&
	test "$(post "/api/keep?node=anchor/front")" = 400 &&
	test "$(post "/api/reroll")" = 404 &&
	cmp before.lock fitmannequin/recipe.lock
'
test_expect_success 'a request with a body is refused' '
	test "$(code -X POST -H "X-Loramake-Token: $(tok)" --data x=1 "$(base)/api/undo")" = 413
'
test_expect_success 'pick, keep, drop and reroll are lines of recipe.lock, as pick and reroll write them' '
	test "$(post "/api/pick?node=anchor/front&n=3")" = 200 &&
	grep -qx "pick anchor/front 3" fitmannequin/recipe.lock &&
	test "$(post "/api/keep?node=angle/curl/1")" = 200 &&
	grep -qx "pick angle/curl/1 1" fitmannequin/recipe.lock &&
	test "$(post "/api/keep?node=angle/curl/2")" = 200 &&
	test "$(post "/api/drop?node=angle/curl/2")" = 200 &&
	! grep -q "^pick angle/curl/2 " fitmannequin/recipe.lock &&
	test "$(post "/api/reroll?node=angle/curl/3")" = 200 &&
	grep -qx "reroll angle/curl/3 1" fitmannequin/recipe.lock &&
	grep -q "rerolled angle/curl/3 (reroll 1)" srv.out &&
	test "$(field anchor/front pick)" = 3 &&
	test "$(field angle/curl/1 pick)" = 1 &&
	test "$(field angle/curl/3 rerolls)" = 1 &&
	test "$(top can_undo)" = true
'
test_expect_success 'undo takes the last decisions back, one at a time' '
	test "$(post /api/undo)" = 200 &&
	! grep -q "^reroll angle/curl/3" fitmannequin/recipe.lock &&
	test "$(post /api/undo)" = 200 &&
	grep -qx "pick angle/curl/2 1" fitmannequin/recipe.lock &&
	test "$(post /api/undo)" = 200 &&
	! grep -q "^pick angle/curl/2 " fitmannequin/recipe.lock &&
	grep -qx "pick angle/curl/1 1" fitmannequin/recipe.lock
'
test_expect_success 'a pick made elsewhere shows in the state at the next poll' '
	v=$(top version) &&
	curl -sf "$(base)/api/state?since=$v&token=$(tok)" >same.json &&
	test "$(cat same.json)" = "{\"version\":$v}" &&
	lm pick fitmannequin anchor/back 2 >pick.out 2>pick.err &&
	test "$(top version)" -gt "$v" &&
	test "$(field anchor/back pick)" = 2
'
test_expect_success 'check'"'"'s report is a request of its own: every rule with its figure, details capped' '
	test "$(code "$(base)/api/check")" = 403 &&
	curl -sf "$(base)/api/check?token=$(tok)" >check.json &&
	python3 -c "import json, sys; r = json.load(open(\"check.json\"))[\"check\"][\"rules\"]; sys.exit(not (len(r) >= 10 and all(\"figure\" in x and x[\"more\"] >= 0 for x in r)))"
'
test_expect_success 'a taken port is one clear message, exit 1' '
	expect_exit 1 lm review --no-open --port "$(port)" fitmannequin >taken.out 2>taken.err &&
	grep -q "cannot listen on 127.0.0.1:$(port)" taken.err
'
test_expect_success 'TERM stops it cleanly: no leak, no sanitizer report' '
	stop_review &&
	wait_for "! test -d /proc/$(cat srv.pid)" &&
	grep -q "^review: stopped" srv.out &&
	! grep -E "Sanitizer|runtime error" srv.err
'
test_done
