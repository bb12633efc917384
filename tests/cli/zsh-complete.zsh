# zsh-complete.zsh FPATH LINE...: in an interactive zsh (on a zsh/zpty
# pseudo-terminal) with compinit and FPATH first, type each LINE, press
# TAB, and print what the line became, one line per LINE. A widget on
# ^X prints the buffer between markers; the marker is built by printf so
# the echo of the widget's definition cannot match it. The caller bounds
# the run with timeout: a completion that never comes is a failure.
zmodload zsh/zpty
fp=$1; shift
zpty z 'PS1="%% " zsh -f -i'
zpty -w z "fpath=($fp \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'show() { zle -I; print -r -- "$(printf "\\x52ESULT"):$BUFFER:END"; BUFFER=; zle accept-line }; zle -N show; bindkey "^X" show'
for l in "$@"; do
	zpty -w -n z "$l"$'\t\C-x'
	while zpty -r z line; do
		line=${line//$'\r'/}
		if [[ $line == *RESULT:*:END* ]]; then print -r -- "${${line#*RESULT:}%:END*}"; break; fi
	done
done
zpty -d z
