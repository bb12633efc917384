#!/bin/sh
# t0003: make install DESTDIR=... PREFIX=/usr puts the binary, the man page
# (written from docs/cli.md) and the bash and zsh completions there; man
# renders the page; the bash completion registers and completes
# subcommands, options and node ids; the README's commands work with the
# installed loramake; make uninstall takes back exactly what it put.
. "$(dirname "$0")/lib.sh"

test_expect_success 'make install DESTDIR=x PREFIX=/usr gives x/usr/bin/loramake and the rest' '
	make -s -C "$SRC" install DESTDIR="$TRASH/x" PREFIX=/usr >make.out 2>make.err &&
	test -x x/usr/bin/loramake &&
	x/usr/bin/loramake --version >v && grep "^loramake [0-9]" v &&
	test -s x/usr/share/man/man1/loramake.1 &&
	test -s x/usr/share/bash-completion/completions/loramake &&
	test -s x/usr/share/zsh/site-functions/_loramake &&
	find x -type f | sort >installed &&
	test "$(wc -l <installed)" = 4
'
test_expect_success 'man -l renders the page: every subcommand, every option, no warning' '
	MANWIDTH=120 man -l x/usr/share/man/man1/loramake.1 >man.txt 2>man.err &&
	test ! -s man.err &&
	grep "^NAME" man.txt && grep "loramake - make for LoRA training datasets" man.txt &&
	for c in plan graph explain pick reroll check clean gc review merge-lock; do
		grep -q "loramake $c " man.txt || { echo "no $c" && return 1; }
	done &&
	for o in --jobs --engine --pick --max-cost --fail-fast --reroll-failed --json --undo --allow-host --allow-key-env --port --no-open --html --remote-cache; do
		grep -q -- "$o" man.txt || { echo "no $o" && return 1; }
	done &&
	groff -ww -man -z x/usr/share/man/man1/loramake.1 2>groff.err &&
	test ! -s groff.err
'
test_expect_success 'after sourcing the bash completion, complete -p loramake shows it' '
	bash -c ". x/usr/share/bash-completion/completions/loramake && complete -p loramake" >complete.out &&
	grep "^complete -F _loramake loramake$" complete.out
'
test_expect_success 'bash completes subcommands, options and the node ids of the recipe' '
	copy_recipe quickstart &&
	cat >comp.sh <<-\EOF &&
	. x/usr/share/bash-completion/completions/loramake
	PATH=$PWD/x/usr/bin:$PATH
	complete_line() { # complete_line WORDS...: what TAB offers for the last word
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMPREPLY=()
		_loramake
		printf "%s\n" "${COMPREPLY[@]}"
	}
	complete_line loramake ex >sub.out
	complete_line loramake --max >opt.out
	complete_line loramake explain quickstart/recipe.yaml angle/ >ids.out
	complete_line loramake pick quickstart expression/front/ >ids2.out
	EOF
	bash comp.sh 2>comp.err &&
	test ! -s comp.err &&
	grep -x explain sub.out &&
	grep -x -- --max-cost opt.out &&
	grep -x angle/front ids.out && grep -x angle/back ids.out &&
	! grep -v "^angle/" ids.out &&
	grep -x expression/front/smiling ids2.out
'
test_expect_success 'bash completes every subcommand --help lists, and reroll takes node ids' '
	"$LORAMAKE" --help >help.txt &&
	sed -n "s/^ *\(usage: \)\{0,1\}loramake \([a-z][a-z-]*\) .*/\2/p" help.txt | sort -u >want &&
	test "$(wc -l <want)" -ge 9 &&
	cat >comp2.sh <<-\EOF &&
	. x/usr/share/bash-completion/completions/loramake
	PATH=$PWD/x/usr/bin:$PATH
	COMP_WORDS=(loramake ""); COMP_CWORD=1; COMPREPLY=(); _loramake
	printf "%s\n" "${COMPREPLY[@]}" | sort -u >got
	COMP_WORDS=(loramake reroll quickstart/recipe.yaml angle/ba); COMP_CWORD=3
	COMPREPLY=(); _loramake; printf "%s\n" "${COMPREPLY[@]}" >ids3.out
	EOF
	bash comp2.sh 2>comp2.err &&
	test ! -s comp2.err &&
	comm -23 want got >missing &&
	test ! -s missing &&
	grep -x angle/back ids3.out
'
if command -v zsh >/dev/null; then
test_expect_success 'zsh completes subcommands, options and node ids, and every subcommand --help lists' '
	PATH=$TRASH/x/usr/bin:$PATH timeout 60 zsh -f "$SRC/tests/cli/zsh-complete.zsh" \
		"$TRASH/x/usr/share/zsh/site-functions" \
		"loramake expl" "loramake --max-c" "loramake rer" \
		"loramake explain quickstart/recipe.yaml angle/fr" \
		"loramake pick quickstart/recipe.yaml expression/front/sm" \
		"loramake reroll quickstart/recipe.yaml angle/ba" >zsh.out 2>zsh.err &&
	cat >zsh.want <<-\EOF &&
	loramake explain 
	loramake --max-cost 
	loramake reroll 
	loramake explain quickstart/recipe.yaml angle/front 
	loramake pick quickstart/recipe.yaml expression/front/smiling 
	loramake reroll quickstart/recipe.yaml angle/back 
	EOF
	diff -u zsh.want zsh.out &&
	for c in $(cat want); do
		grep -q "^		.$c:" "$SRC/completions/_loramake" || { echo "zsh lacks $c" && return 1; }
	done
'
else
test_skip 'zsh completes subcommands, options and node ids' 'zsh is not installed (tests/deps.sh installs it)'
fi
test_expect_success 'the README commands work with the installed loramake' '
	(
		PATH=$TRASH/x/usr/bin:$PATH &&
		cd quickstart &&
		loramake --engine preview recipe.yaml >../r1.out 2>../r1.err &&
		loramake plan recipe.yaml >../r2.out 2>../r2.err &&
		loramake plan --engine preview recipe.yaml >../r3.out 2>../r3.err &&
		loramake check --engine preview recipe.yaml >../r4.out 2>../r4.err
	) &&
	grep "dataset: quickstart/dist/quickstart.zip\|dataset: dist/quickstart.zip" r1.out &&
	grep "jobs to run" r2.out &&
	grep "^0 jobs to run" r3.out &&
	grep "^check: [0-9]* pass" r4.out
'
test_expect_success 'make uninstall removes what install put, and nothing else' '
	echo mine >x/usr/bin/other &&
	make -s -C "$SRC" uninstall DESTDIR="$TRASH/x" PREFIX=/usr >u.out 2>u.err &&
	find x -type f >left &&
	test "$(cat left)" = x/usr/bin/other
'
test_done
