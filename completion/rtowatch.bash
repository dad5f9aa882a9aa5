# bash completion for rtowatch(1).
#
# The commands, their actions, options and option values come from the
# program itself (rtowatch --complete, read from its table of commands),
# so this file does not change when a command is added.

_rtowatch()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local prog=${COMP_WORDS[0]} cmd= i words

	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--db|--tz|--socket) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	COMPREPLY=()
	case $prev in
	--db|--socket)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--tz)
		return
		;;
	esac
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			words="--db --tz --socket --help --version"
		else
			words=$("$prog" --complete 2>/dev/null)
		fi
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return
	fi
	if [[ $prev == --* ]]; then
		words=$("$prog" --complete "$cmd" "$prev" 2>/dev/null)
		if [[ -n $words ]]; then
			COMPREPLY=($(compgen -W "$words" -- "$cur"))
			return
		fi
	fi
	words=$("$prog" --complete "$cmd" 2>/dev/null)
	if [[ $cur != -* ]]; then
		# The actions (maintenance list), right after the command.
		words=$(printf '%s\n' $words | grep -v '^-')
	fi
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
	[[ $cmd == backup && $cur != -* ]] &&
		COMPREPLY+=($(compgen -f -- "$cur"))
	return 0
}
complete -F _rtowatch rtowatch
