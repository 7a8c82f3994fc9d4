#!/bin/sh
# The config file (p2pl(5)): a program's section sets its options, the
# command line overrides them, other programs' sections are left alone,
# --config and --no-config choose the file, and a bad line is an error
# naming file:line with exit status 2.
. "$(dirname "$0")/lib.sh"

cfg=$XDG_CONFIG_HOME/p2pl/config
mkdir -p "$(dirname "$cfg")"
port=$(free_port)	# nobody listens there: fetch times out
# a well-formed URI of a stream nobody serves
URI="p2pl:$(printf '%052d' 0 | tr 0 a)?peer=127.0.0.1:$port"

# expect STATUS PATTERN CMD...: CMD exits STATUS and stderr matches PATTERN
# (within 30 s: a fetch whose configured --timeout was lost would wait)
expect() {
	want=$1 pat=$2
	shift 2
	rc=0
	timeout 30 "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	[ $rc -eq "$want" ] || fail "$* exited $rc, want $want: $(cat "$T/err")"
	grep -q -- "$pat" "$T/err" || fail "$*: stderr lacks '$pat': $(cat "$T/err")"
	if grep -qi "sanitizer\|runtime error" "$T/err"; then
		fail "$*: $(cat "$T/err")"
	fi
}

# the fetch section applies: timeout (exit 3) and a stats file
cat >"$cfg" <<EOF2
# options for every p2pl program
[p2pl-publish]
piece-ms = 20
[p2pl-relay]
no-such-relay-option = 1

[p2pl-fetch]
timeout = 1
stats = $T/cfg.stats
EOF2
expect 3 "no stream data" p2pl-fetch -q "$URI"
grep -q '"prog":"p2pl-fetch"' "$T/cfg.stats" || fail "config stats file not written"

# the command line wins over the file
rm -f "$T/cfg.stats"
expect 3 "no stream data" p2pl-fetch -q --stats "$T/cli.stats" "$URI"
[ -s "$T/cli.stats" ] || fail "command-line stats file not written"
[ ! -e "$T/cfg.stats" ] || fail "config stats file written despite --stats"

# without XDG_CONFIG_HOME: ~/.config/p2pl/config
mkdir -p "$T/home/.config/p2pl"
printf '[p2pl-fetch]\ntimeout = 1\nstats = %s\n' "$T/home.stats" \
    >"$T/home/.config/p2pl/config"
expect 3 "no stream data" env -u XDG_CONFIG_HOME HOME="$T/home" \
    p2pl-fetch -q "$URI"
[ -s "$T/home.stats" ] || fail "~/.config/p2pl/config not read"

# --config FILE instead of the default; a missing one is an error
printf '[p2pl-fetch]\ntimeout = 1\nstats = %s\n' "$T/other.stats" \
    >"$T/other.conf"
expect 3 "no stream data" p2pl-fetch -q --config "$T/other.conf" "$URI"
[ -s "$T/other.stats" ] || fail "--config file not read"
expect 2 "p2pl-fetch: $T/none.conf: No such file" \
    p2pl-fetch --config "$T/none.conf" "$URI"
expect 2 "p2pl-fetch: $T: Is a directory" p2pl-fetch --config "$T" "$URI"
mkfifo "$T/fifo"
expect 2 "p2pl-fetch: $T/fifo: not a regular file" p2pl-fetch --config "$T/fifo" "$URI"

# bad lines: file:line and exit 2, before anything else is done
printf '[p2pl-fetch]\ntimeout = 1\nlatncy = 0.5\n' >"$cfg"
expect 2 "p2pl-fetch: $cfg:3: unknown key 'latncy'" p2pl-fetch "$URI"
printf 'timeout = 1\n' >"$cfg"
expect 2 "$cfg:1: setting outside a section" p2pl-fetch "$URI"
printf '[p2pl-fetch]\n\n\nversion\n' >"$cfg"
expect 2 "$cfg:4: option not allowed here 'version'" p2pl-fetch "$URI"
python3 -c 'print("[p2pl-fetch]\nplayer = " + "x" * 2000)' >"$cfg"
expect 2 "$cfg:2: line too long" p2pl-fetch "$URI"
printf '[p2pl-fetch]\nframes\000\n' >"$cfg"
expect 2 "$cfg:2: control character" p2pl-fetch "$URI"
# a value the program refuses is refused as on the command line
printf '[p2pl-fetch]\nlatency = 99\n' >"$cfg"
expect 2 "p2pl-fetch: --latency: want seconds" p2pl-fetch "$URI"
# --no-config: the bad file is not read
expect 3 "no stream data" p2pl-fetch -q --no-config --timeout 1 "$URI"

# the other programs read their own sections
printf '[p2pl-relay]\nno-such-relay-option = 1\n' >"$cfg"
expect 2 "$cfg:2: unknown key 'no-such-relay-option'" p2pl-relay "$URI"
printf '[p2pl-publish]\nkey = %s\npiece-size = 10\n' "$T/cfg.key" >"$cfg"
expect 2 "p2pl-publish: --piece-size: want 1024" p2pl-publish
printf '[p2pl-publish]\nkey = %s\n' "$T/cfg.key" >"$cfg"
expect 1 "input is empty" p2pl-publish -l 127.0.0.1:0
[ -s "$T/cfg.key" ] || fail "publisher did not take -k from the config"
