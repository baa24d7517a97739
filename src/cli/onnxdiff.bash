# bash completion for onnxdiff — installed by `make install` into bash-completion's folder.
# Commands and options are read from onnxdiff's own --help, so they never fall behind it.

_onnxdiff_words() # the long options of `onnxdiff CMD --help` (CMD empty: the commands)
{
	local od=$1 cmd=$2
	if [[ -z $cmd ]]; then
		"$od" --help 2>/dev/null | sed -n '/^commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p'
	else
		"$od" "$cmd" --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*(\[?=)?' |
			sed 's/\[=$//' | sort -u
	fi
}

_onnxdiff()
{
	local od=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local cmd= i commands
	commands=$(_onnxdiff_words "$od" "" | tr "\n" " ")
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ " $commands " == *" ${COMP_WORDS[i]} "* ]]; then
			cmd=${COMP_WORDS[i]}
			break
		fi
	done
	COMPREPLY=()
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_onnxdiff_words "$od" "${cmd:-diff}")" -- "$cur"))
		[[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace
		return
	fi
	compopt -o filenames
	case $prev in
	-o|--output|--script|--external-data)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	esac
	if [[ $cur == @* ]]; then      # --set NAME=@FILE: a .npy or .pb value
		COMPREPLY=($(compgen -f -X '!*.@(npy|pb)' -- "${cur#@}") $(compgen -d -- "${cur#@}"))
		COMPREPLY=("${COMPREPLY[@]/#/@}")
		return
	fi
	[[ -z $cmd && $COMP_CWORD == 1 ]] && COMPREPLY=($(compgen -W "$commands help" -- "$cur"))
	COMPREPLY+=($(compgen -f -X '!*.onnx' -- "$cur") $(compgen -d -- "$cur"))
}
shopt -s extglob
complete -F _onnxdiff onnxdiff
