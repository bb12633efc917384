#!/bin/sh
# t3503: the shell completions know the targets: after a recipe, a build
# and a plan complete `package` and `train`; explain completes `train`
# beside the node ids (bash, and zsh when it is installed).
. "$(dirname "$0")/lib.sh"

test_expect_success 'bash completes the targets after the recipe, and train for explain' '
	cp -R "$SRC/recipes/quickstart-train" qs &&
	mkdir bin && ln -s "$LORAMAKE" bin/loramake &&
	cat >comp.sh <<-\EOF &&
	. "$SRC/completions/loramake.bash"
	PATH=$PWD/bin:$PATH
	complete_line() {
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMPREPLY=()
		_loramake
		printf "%s\n" "${COMPREPLY[@]}"
	}
	complete_line loramake qs/recipe.yaml "" >build.out
	complete_line loramake plan qs/recipe.yaml tr >plan.out
	complete_line loramake explain qs/recipe.yaml tr >explain.out
	complete_line loramake explain qs/recipe.yaml valid >val.out
	EOF
	SRC=$SRC bash comp.sh 2>comp.err &&
	test ! -s comp.err &&
	grep -x package build.out && grep -x train build.out &&
	test "$(cat plan.out)" = train &&
	grep -x train explain.out && grep -x train/quickstart_train explain.out &&
	grep -x validate/park val.out && grep -x validate/studio val.out
'
if command -v zsh >/dev/null; then
test_expect_success 'zsh completes the target train after the recipe' '
	timeout 60 zsh -f "$SRC/tests/cli/zsh-complete.zsh" "$SRC/completions" \
		"loramake qs/recipe.yaml tr" "loramake plan qs/recipe.yaml pa" >zsh.out 2>zsh.err &&
	grep -x "loramake qs/recipe.yaml train " zsh.out &&
	grep -x "loramake plan qs/recipe.yaml package " zsh.out
'
fi
test_done
