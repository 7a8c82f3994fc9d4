#!/bin/sh
# contrib/cameras.sh - publish every camera listed in a file: one
# p2pl-publish per camera, each with its own key (so its own, lasting URI)
# and port, restarted with backoff when it fails.  Prints "NAME URI" on
# stdout for each camera once its publisher is up.  See contrib/README.md.
#
# usage: cameras.sh [-d DIR] [-l HOST] [-p PORT] FILE [-- PUBLISH-ARGS...]
#
# FILE has one camera a line, "NAME URL [PORT]"; blank lines and lines
# starting with # are skipped.  NAME is letters, digits, '.', '_' and '-'.
# A camera without a PORT listens on PORT (-p, default 7000) plus its
# index among the cameras; give PORTs when the list may change, since the
# port is part of the URI.  Keys, URIs and each publisher's stderr go to
# DIR (-d, default ./p2pl-cameras): NAME.key, NAME.uri, NAME.log.
# PUBLISH-ARGS are given to every p2pl-publish (e.g. -t TRACKER -u 2x).
#
# p2pl-publish itself reconnects to a camera that drops out; this script
# restarts p2pl-publish when it exits with a failure (1 s doubling to 60 s,
# back to 1 s after a run of a minute), except for usage and key errors
# (exit 2 and 3), which a restart would not cure.  SIGINT or SIGTERM stops
# every publisher.  Exit status: 0 when stopped by a signal or when every
# publisher has ended, 1 when one was not restarted after a usage or key
# error, 2 for a usage error or a bad camera list.
set -u
PROG=cameras.sh
PUBLISH=${P2PL_PUBLISH:-p2pl-publish}
dir=./p2pl-cameras
host=0.0.0.0
base=7000

usage() {
	echo "usage: $PROG [-d DIR] [-l HOST] [-p PORT] FILE [-- PUBLISH-ARGS...]" >&2
	exit 2
}

say() { echo "$PROG: $*" >&2; }

while getopts d:l:p:h opt; do
	case $opt in
	d) dir=$OPTARG ;;
	l) host=$OPTARG ;;
	p) base=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
list=$1
shift
[ $# -eq 0 ] || { [ "$1" = -- ] && shift; } || usage
case $base in '' | *[!0-9]*) say "-p: not a port: $base"; exit 2 ;; esac
[ -r "$list" ] || { say "$list: cannot read"; exit 2; }
if ! mkdir -p "$dir" || ! chmod 700 "$dir"; then
	say "$dir: cannot create"
	exit 2
fi

# Check the whole list before starting anything.
n=0
names=
while read -r name url port extra; do
	case $name in '' | '#'*) continue ;; esac
	n=$((n + 1))
	case $name in
	*[!A-Za-z0-9._-]* | .*) say "$list: bad camera name '$name'"; exit 2 ;;
	esac
	case " $names " in *" $name "*) say "$list: camera '$name' twice"; exit 2 ;; esac
	names="$names $name"
	[ -n "$url" ] || { say "$list: camera '$name' has no URL"; exit 2; }
	[ -z "$extra" ] || { say "$list: camera '$name': too many fields"; exit 2; }
	case ${port:-0} in *[!0-9]*) say "$list: camera '$name': bad port '$port'"; exit 2 ;; esac
done <"$list"
[ $n -gt 0 ] || { say "$list: no cameras"; exit 2; }

# supervise NAME URL PORT ARGS...: run one camera's publisher until it
# ends for good or we are stopped; print its URI whenever it (re)starts
# with a new one.
supervise() {
	name=$1 url=$2 port=$3
	shift 3
	pid="" wait=1 shown=""
	trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; exit 0' TERM INT
	while :; do
		: >"$dir/$name.uri"
		start=$(date +%s)
		"$PUBLISH" -k "$dir/$name.key" -l "$host:$port" "$@" "$url" \
		    >"$dir/$name.uri" 2>>"$dir/$name.log" &
		pid=$!
		i=0
		while [ ! -s "$dir/$name.uri" ] && [ $i -lt 100 ] &&
		    kill -0 "$pid" 2>/dev/null; do
			sleep 0.1
			i=$((i + 1))
		done
		uri=$(head -n 1 "$dir/$name.uri")
		if [ -n "$uri" ] && [ "$uri" != "$shown" ]; then
			echo "$name $uri"
			shown=$uri
		fi
		rc=0
		wait "$pid" 2>/dev/null || rc=$?
		pid=""
		case $rc in
		0) say "$name: p2pl-publish ended"; return 0 ;;
		2 | 3) say "$name: p2pl-publish exited $rc, not restarting:" \
		    "$(tail -n 1 "$dir/$name.log")"; return 1 ;;
		esac
		[ $(($(date +%s) - start)) -lt 60 ] || wait=1
		say "$name: p2pl-publish exited $rc (see $dir/$name.log);" \
		    "restarting in $wait s"
		sleep "$wait" &
		pid=$!
		wait "$pid" || true
		pid=""
		wait=$((wait * 2 > 60 ? 60 : wait * 2))
	done
}

kids=
stop() {
	trap - TERM INT
	for k in $kids; do kill "$k" 2>/dev/null; done
	wait
	exit 0
}
trap stop TERM INT

i=0
while read -r name url port extra; do
	case $name in '' | '#'*) continue ;; esac
	supervise "$name" "$url" "${port:-$((base + i))}" "$@" </dev/null &
	kids="$kids $!"
	i=$((i + 1))
done <"$list"
status=0
for k in $kids; do
	wait "$k" || status=1
done
exit $status
