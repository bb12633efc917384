#!/bin/sh
# t2530: a recipe chooses which variable is sent as an engine's key
# (key_env:) and where (url:); a cloned recipe must not be able to send
# any secret to any host. key_env must be documented by the engine type,
# or end in _KEY/_TOKEN and be allowed by the user (--allow-key-env,
# LORAMAKE_ALLOW_KEY_ENV); url must be loopback, the vendor's own host, or
# allowed by the user (--allow-host, LORAMAKE_ALLOW_HOSTS). plan shows
# what each engine sends where. No server is contacted.
. "$(dirname "$0")/lib.sh"
Q="'"  # a quote, for the patterns inside test bodies
unset LORAMAKE_ALLOW_HOSTS LORAMAKE_ALLOW_KEY_ENV

# recipe DIR ENGINE-FIELDS: one fal node from a hero, engine fal set so
recipe() {
	mkdir -p "$1" && cp "$SRC/recipes/jinx/keystones/hero.png" "$1/" &&
	cat >"$1/recipe.yaml" <<-EOF
	loramake: 1
	engines:
	  fal: { type: fal$2 }
	hero: { file: hero.png }
	angle: { model: fal-ai/nano-banana-pro/edit, items: { a: x } }
	EOF
}

test_expect_success 'plan shows the key variable and the host of each remote engine' '
	recipe k0 "" &&
	lm plan k0/recipe.yaml >out &&
	grep "^engine fal sends \$FAL_KEY to https://queue.fal.run$" out &&
	lm plan --json k0/recipe.yaml >json &&
	python3 -c "import json, sys; e = json.load(open(\"json\"))[\"engines\"]; assert e == [{\"name\": \"fal\", \"type\": \"fal\", \"key_env\": \"FAL_KEY\", \"url\": \"https://queue.fal.run\"}], e"
'
test_expect_success 'key_env: GITHUB_TOKEN is refused at its line unless the user allows it' '
	recipe k1 ", key_env: GITHUB_TOKEN" &&
	expect_exit 2 lm plan k1/recipe.yaml >out 2>err &&
	grep "^k1/recipe.yaml:3:30: error: engine ${Q}fal${Q} would send \$GITHUB_TOKEN as its API key, but fal documents FAL_KEY; if that variable is meant for it, allow it outside the recipe: --allow-key-env GITHUB_TOKEN, or LORAMAKE_ALLOW_KEY_ENV=GITHUB_TOKEN$" err &&
	expect_exit 2 lm k1/recipe.yaml >out 2>err &&
	grep "would send \$GITHUB_TOKEN" err &&
	lm plan --allow-key-env GITHUB_TOKEN k1/recipe.yaml >out &&
	grep "^engine fal sends \$GITHUB_TOKEN to https://queue.fal.run$" out &&
	LORAMAKE_ALLOW_KEY_ENV="OTHER_KEY, GITHUB_TOKEN" lm plan k1/recipe.yaml >out
'
test_expect_success 'a key_env not ending in _KEY or _TOKEN is refused even when allowed' '
	recipe k2 ", key_env: HOME" &&
	expect_exit 2 lm plan --allow-key-env HOME k2/recipe.yaml >out 2>err &&
	grep "error: engine ${Q}fal${Q} would send \$HOME as its API key: only a variable fal documents (FAL_KEY), or one ending in _KEY or _TOKEN that you allow with --allow-key-env, may be sent" err
'
test_expect_success 'a url: off this machine and off the hosts of the vendor is refused unless the user allows the host' '
	recipe u1 ", url: \"https://evil.example.com/fal\"" &&
	expect_exit 2 lm plan u1/recipe.yaml >out 2>err &&
	grep "^u1/recipe.yaml:3:26: error: engine ${Q}fal${Q} would send \$FAL_KEY and the input images to ${Q}evil.example.com${Q}, which is neither this machine nor fal${Q}s own (queue.fal.run, fal.run, rest.fal.ai, fal.media); if you trust that host, allow it outside the recipe: --allow-host evil.example.com, or LORAMAKE_ALLOW_HOSTS=evil.example.com$" err &&
	lm plan --allow-host evil.example.com u1/recipe.yaml >out &&
	grep "^engine fal sends \$FAL_KEY to https://evil.example.com$" out &&
	LORAMAKE_ALLOW_HOSTS=EVIL.example.com lm plan u1/recipe.yaml >out &&
	expect_exit 2 lm plan --allow-host example.com u1/recipe.yaml >out 2>err
'
test_expect_success 'the hosts of the vendor, their subdomains and loopback need no allowance' '
	for u in https://queue.fal.run https://eu.fal.run/x http://127.0.0.1:8000 http://localhost:9 "http://[::1]:80"; do
		rm -rf v && recipe v ", url: \"$u\"" && lm plan v/recipe.yaml >out || exit 1
	done &&
	recipe v2 ", url: \"https://fal.run.evil.com\"" &&
	expect_exit 2 lm plan v2/recipe.yaml >out 2>err
'
test_expect_success 'a url: the URL policy refuses is a recipe error at its line' '
	recipe w1 ", url: \"https://user:pw@queue.fal.run\"" &&
	expect_exit 2 lm plan w1/recipe.yaml >out 2>err &&
	grep "^w1/recipe.yaml:3:26: error: engine ${Q}fal${Q}: url: URLs with a user name or password are not accepted" err &&
	recipe w2 ", url: \"http://10.0.0.5:8188\"" &&
	expect_exit 2 lm plan --allow-host 10.0.0.5 w2/recipe.yaml >out 2>err &&
	grep "error: engine ${Q}fal${Q}: url: refusing plain http to ${Q}http://10.0.0.5:8188${Q}" err
'
test_expect_success 'an engine no node uses is not checked (--engine preview builds offline)' '
	expect_exit 2 lm plan u1/recipe.yaml >out 2>err &&
	lm plan --engine preview u1/recipe.yaml >out 2>err &&
	! grep "^engine " out
'
test_done
