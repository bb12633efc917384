# bash completion for loramake: subcommands, options, recipes, and the
# node ids of the recipe on the line (from `loramake plan --json`).
# Installed by `make install` to share/bash-completion/completions/.

_loramake_nodes() { # _loramake_nodes RECIPE: its node ids, one a line
	loramake plan --json "$1" 2>/dev/null |
		grep -o '"id": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/'
}

_loramake() {
	local cur prev words cword
	_init_completion 2>/dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}
	local cmds="plan graph explain pick reroll check clean gc review merge-lock"
	local opts="-j --jobs --engine --pick --max-cost --fail-fast --reroll-failed --json -v
		--verbose --format --drop --undo --allow-host --allow-key-env --port
		--no-open --html --remote-cache -h
		--help --version"
	case $prev in
	-j | --jobs | --max-cost | --reroll-failed | --allow-host | --allow-key-env | --port) return ;;
	--html) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--engine) COMPREPLY=($(compgen -W "preview" -- "$cur")); return ;;
	--pick) COMPREPLY=($(compgen -W "first" -- "$cur")); return ;;
	--format) COMPREPLY=($(compgen -W "dot mermaid" -- "$cur")); return ;;
	--remote-cache) COMPREPLY=($(compgen -W "off read readwrite" -- "$cur")); return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	# the subcommand and the recipe: the first words that are not options
	local i w cmd="" recipe="" skip=""
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if [[ -n $skip ]]; then skip=""; continue; fi
		case $w in
		-j | --jobs | --engine | --pick | --max-cost | --reroll-failed | --format | --allow-host | \
		--allow-key-env | --port | --html | --remote-cache) skip=1 ;;
		-*) ;;
		*)
			if [[ -z $cmd && " $cmds " == *" $w "* ]]; then
				cmd=$w
			elif [[ -z $recipe ]]; then
				recipe=$w
			fi
			;;
		esac
	done
	if [[ -n $recipe && ( $cmd == explain || $cmd == pick || $cmd == reroll ) ]]; then
		local extra=""
		[[ $cmd == explain ]] && extra=train # the target names its node
		COMPREPLY=($(compgen -W "$(_loramake_nodes "$recipe") $extra" -- "$cur"))
		return
	fi
	# a build or a plan takes a target after the recipe, as make does
	if [[ -n $recipe && ( -z $cmd || $cmd == plan ) ]]; then
		COMPREPLY=($(compgen -W "package train" -- "$cur"))
		return
	fi
	if [[ -z $recipe ]]; then
		[[ -z $cmd ]] && COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
		COMPREPLY+=($(compgen -f -X '!*.yaml' -- "$cur") $(compgen -d -- "$cur"))
	fi
}
complete -F _loramake loramake
