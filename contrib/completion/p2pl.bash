# bash completion for p2pl-publish, p2pl-fetch, p2pl-relay and p2pl-top.
# Installed in share/bash-completion/completions/ (as p2pl-publish,
# p2pl-fetch and p2pl-relay, all the same file); or source it.

# _p2pl_opts PROG: the options of PROG, short and long
_p2pl_opts()
{
	case $1 in
	p2pl-publish)
		echo "-a --announce -h --help -k --key -l --listen -L" \
		    "--listen-input --max-peers -o --output" \
		    "--piece-ms --piece-size --private -q --quiet --retry" \
		    "--stats --timeout -t --tracker" \
		    "-u --upload -v --verbose -V --version --config --no-config"
		;;
	p2pl-fetch)
		echo "-d --download --frames -h --help --http --latency -l --listen" \
		    "-p --player -q --quiet -r --record --relay-only --stats" \
		    "--timeout" \
		    "-u --upload -v --verbose -V --version --config --no-config"
		;;
	p2pl-top)
		echo "-b --bytes -d --delay -h --help -n --iterations" \
		    "-N --neighbours -P --processes -V --version"
		;;
	p2pl-relay)
		echo "-h --help --http -i --input -l --listen --max-peers -q --quiet" \
		    "--stats --tracker -u --upload -v --verbose -V --version" \
		    "--config --no-config"
		;;
	esac
}

_p2pl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local prog=${COMP_WORDS[0]##*/}

	COMPREPLY=()
	# --opt=value: bash splits at the =
	if [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
		prev=${COMP_WORDS[COMP_CWORD-2]}
	elif [[ $cur == = ]]; then
		cur=
	fi
	case $prog:$prev in
	*:--config|*:--stats|p2pl-publish:-k|p2pl-publish:--key|\
	p2pl-publish:-o|p2pl-publish:--output|p2pl-fetch:-r|p2pl-fetch:--record)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		[[ $prev == --stats || $prev == -o || $prev == --output ]] &&
		    [[ -z $cur || $cur == - ]] && COMPREPLY+=(-)
		return
		;;
	p2pl-fetch:-p|p2pl-fetch:--player)
		COMPREPLY=($(compgen -c -- "$cur"))
		return
		;;
	p2pl-relay:-i|p2pl-relay:--input)
		COMPREPLY=(-)
		return
		;;
	p2pl-publish:-a|p2pl-publish:--announce|*:-l|*:--listen|\
	p2pl-publish:--piece-ms|p2pl-publish:--piece-size|p2pl-publish:-t|\
	p2pl-publish:--retry|p2pl-publish:--timeout|\
	p2pl-publish:--tracker|*:-u|*:--upload|p2pl-fetch:-d|\
	p2pl-fetch:--download|p2pl-fetch:--http|p2pl-fetch:--latency|p2pl-fetch:--timeout|\
	p2pl-relay:--http|*:--max-peers|p2pl-top:-d|p2pl-top:--delay|p2pl-top:-n|\
	p2pl-top:--iterations)
		return	# a value: nothing to offer
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_p2pl_opts "$prog")" -- "$cur"))
	elif [[ $prog == p2pl-top ]]; then
		# a process id, a control socket, or a URL
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -W "$(pgrep -d ' ' '^p2pl-' 2>/dev/null)" \
		    -- "$cur") $(compgen -f -- "$cur"))
	elif [[ $prog == p2pl-publish ]]; then
		# INPUT: a file, or a URL
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _p2pl p2pl-publish p2pl-fetch p2pl-relay p2pl-top
