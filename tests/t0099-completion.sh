#!/bin/sh
# bash and zsh completion (contrib/completion/) offer exactly each
# program's options as its --help lists them (so they cannot drift apart
# unnoticed), and file names after the options that take a file.
. "$(dirname "$0")/lib.sh"

comp=$(cd "$(dirname "$0")/.." && pwd)/contrib/completion
command -v zsh >/dev/null || fail "zsh is not installed (contrib/install-deps.sh)"
mkdir "$T/files"
: >"$T/files/door.key"
: >"$T/files/door.ts"

# help_opts PROG: its long options and short ones (-x), from --help
help_opts() {
	"$1" --help | python3 -c '
import re, sys
text = sys.stdin.read()
usage, _, longs = text.partition("long options:")
opts = set(re.findall(r"--[a-z-]+", longs))
for m in re.findall(r"(?<=[\[ ])-([A-Za-z]+)(?=[\] ])", usage):
    opts.update("-" + c for c in m)
opts.add("-h")	# --help has -h too
print("\n".join(sorted(opts)))'
}

# bash_complete WORD...: what the bash completion offers for the last word
bash_complete() {
	bash -c '. "$1/p2pl.bash"; shift
complete -p "$1" | grep -q "_p2pl" || exit 1
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _p2pl
[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"' sh "$comp" "$@"
}

for p in p2pl-publish p2pl-fetch p2pl-relay; do
	help_opts "$p" >"$T/$p.help"
	[ "$(wc -l <"$T/$p.help")" -gt 8 ] || fail "$p: too few options in --help"
	bash_complete "$p" - | sort >"$T/$p.bash" ||
	    fail "$p: no bash completion"
	diff "$T/$p.help" "$T/$p.bash" >"$T/diff" ||
	    fail "$p: bash completion and --help differ: $(cat "$T/diff")"
done
note "bash completion offers the options of every --help"

# file names where a file is wanted
bash_complete p2pl-publish -k "$T/files/do" >"$T/out"
grep -qx "$T/files/door.key" "$T/out" || fail "no file after -k: $(cat "$T/out")"
bash_complete p2pl-fetch -r "$T/files/door.t" >"$T/out"
grep -qx "$T/files/door.ts" "$T/out" || fail "no file after -r: $(cat "$T/out")"
bash_complete p2pl-fetch --config = "$T/files/door.k" >"$T/out"
grep -qx "$T/files/door.key" "$T/out" || fail "no file after --config=: $(cat "$T/out")"
bash_complete p2pl-relay --stats "$T/files/" >"$T/out"
grep -qx "$T/files/door.ts" "$T/out" || fail "no file after --stats: $(cat "$T/out")"
bash_complete p2pl-fetch --latency "$T/files/do" >"$T/out"
[ ! -s "$T/out" ] || fail "files offered for --latency: $(cat "$T/out")"

# zsh: a real interactive zsh with compinit, driven through a pty; each
# program's "--<TAB>" lists its long options
zsh -n "$comp/_p2pl" || fail "_p2pl: syntax error"
for p in p2pl-publish p2pl-fetch p2pl-relay; do
	timeout 30 zsh -f -c '
zmodload zsh/zpty
zpty z "zsh -f -i"
zpty -w z "PS1=\"> \"; LISTMAX=1000; COLUMNS=200; fpath=($1 \$fpath)"
zpty -w z "autoload -U compinit; compinit -u -D; $2() { : }"
zpty -w z "zstyle \":completion:*\" list-prompt \"\""
zpty -wn z "$2 --"$'"'"'\t'"'"'
sleep 2
zpty -wn z $'"'"'\003'"'"'
sleep 0.5
while zpty -rt z chunk; do print -rn -- "$chunk"; done
zpty -d z' sh "$comp" "$p" >"$T/$p.zsh" 2>&1 || true
	grep -- '^--' "$T/$p.help" | while read -r o; do
		grep -q -- "$o\\b" "$T/$p.zsh" ||
		    fail "$p: zsh does not offer $o: $(tr -d '\033' <"$T/$p.zsh" | tail -c 1500)"
	done
done
note "zsh completion offers the long options of every --help"
