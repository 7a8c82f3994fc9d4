# tests/lib.sh - shared set-up for the shell tests: sourced, not run.
# Each test gets a scratch directory $T, the programs from $P2PL_BIN, and
# helpers that start a live ffmpeg test pattern, publishers and viewers on
# loopback.  Every process started here is killed when the test exits.

set -eu
: "${P2PL_BIN:=$(cd "$(dirname "$0")/.." && pwd)/build/bin}"
TOOLS=$(dirname "$P2PL_BIN")/tools
PATH=$P2PL_BIN:$PATH
T=$(mktemp -d "${TMPDIR:-/tmp}/p2pl-test.XXXXXX")
PIDS=
# control sockets of this test's processes only (p2pl-top finds them here)
mkdir -m 700 "$T/run"
export XDG_RUNTIME_DIR="$T/run"
# the tester's own p2pl config file (p2pl(5)) must not change the tests
export XDG_CONFIG_HOME="$T/xdg"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	sleep 0.2
	for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }

# camera NAME: a live test pattern (H.264 + AAC in MPEG-TS) into fifo $T/NAME.ts
camera() {
	mkfifo "$T/$1.ts"
	ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=size=320x240:rate=25 \
	    -f lavfi -i sine=frequency=440 -c:v libx264 -preset ultrafast \
	    -tune zerolatency -g 25 -b:v 400k -c:a aac -f mpegts -y "$T/$1.ts" \
	    2>"$T/$1.ffmpeg.err" &
	PIDS="$PIDS $!"
	CAMERA_PID=$!
}

# http_camera NAME PORT [CODEC ARGS...]: a network camera: a live test
# pattern served once over HTTP on 127.0.0.1:PORT by ffmpeg -listen 1
# (H.264 + AAC in MPEG-TS unless CODEC ARGS say otherwise, e.g. -c:v
# libx265 ...); sets CAMERA_PID once it listens.  ffmpeg waits for the
# client to connect before it starts encoding.
http_camera() {
	name=$1 port=$2
	shift 2
	[ $# -gt 0 ] || set -- -c:v libx264 -preset ultrafast -tune zerolatency \
	    -g 25 -b:v 400k -c:a aac
	ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=size=320x240:rate=25 \
	    -f lavfi -i sine=frequency=440 "$@" -f mpegts \
	    -listen 1 "http://127.0.0.1:$port" 2>>"$T/$name.ffmpeg.err" &
	CAMERA_PID=$!
	PIDS="$PIDS $!"
	wait_for 10 listening "$port" || fail "camera $name did not start: $(cat "$T/$name.ffmpeg.err")"
}

# listening PORT: something listens on TCP PORT, or has just taken its one
# client there (asked without connecting: ffmpeg -listen 1 serves one
# client, and stops listening once it has it)
listening() {
	ss -Htn state listening state established "sport = :$1" | grep -q .
}

# dts_monotonic FILE: in every stream of FILE, packet dts never goes back
dts_monotonic() {
	ffprobe -v error -show_entries packet=stream_index,dts -of csv=p=0 \
	    "$1" >"$1.dts" || return 1
	awk -F, '$2 == "N/A" { next }
	    ($1 in last) && $2 + 0 < last[$1] { print "stream " $1 ": dts " \
	    last[$1] " then " $2; bad = 1 }
	    { last[$1] = $2 + 0 } END { exit bad }' "$1.dts" >&2
}

# publish NAME KEY [ARGS...]: publisher fed by camera NAME; sets PUB_PID
# and URI (waits for the URI line).
publish() {
	name=$1 key=$2
	shift 2
	p2pl-publish -k "$T/$key" -l 127.0.0.1:0 --stats "$T/$name.pub.stats" \
	    "$@" <"$T/$name.ts" >"$T/$name.uri" 2>"$T/$name.pub.err" &
	PUB_PID=$!
	PIDS="$PIDS $!"
	i=0
	while [ ! -s "$T/$name.uri" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "no uri from publisher: $(cat "$T/$name.pub.err")"
		sleep 0.1
	done
	URI=$(head -n 1 "$T/$name.uri")
}

# viewer NAME [ARGS...] URI: p2pl-fetch into $T/NAME.out in the background
viewer() {
	name=$1
	shift
	p2pl-fetch --stats "$T/$name.stats" "$@" >"$T/$name.out" \
	    2>"$T/$name.err" &
	PIDS="$PIDS $!"
	VIEWER_PID=$!
}

# stop PID: SIGTERM and wait; fails if it does not exit 0
stop() {
	kill -TERM "$1" 2>/dev/null || true
	rc=0
	wait "$1" || rc=$?
	[ $rc -eq 0 ] || fail "process $1 exited $rc"
}

# decodes FILE: the whole file decodes with no error at all
decodes() {
	[ -s "$1" ] || fail "$1 is empty"
	if ! ffmpeg -nostdin -v error -xerror -i "$1" -f null - 2>"$1.decode" ||
	    [ -s "$1.decode" ]; then
		fail "$1 does not decode: $(head -c 500 "$1.decode")"
	fi
}

# last_stat FILE FIELD: top-level FIELD of the last stats line (the
# neighbours array, which repeats some names, is cut off first)
last_stat() {
	tail -n 1 "$1" | sed -e 's/,"neighbours":\[.*/}/' -n -e "s/.*\"$2\":\\([^,}]*\\).*/\\1/p"
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds
wait_for() {
	n=$(($1 * 10))
	shift
	while ! "$@" 2>/dev/null; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

size_of() { wc -c <"$1" | tr -d ' '; }

# free_port: a TCP port nobody listens on now
free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# key_of URI: the stream's key, base32, from a URI
key_of() { echo "$1" | sed -n 's/^p2pl:\([a-z2-7]*\).*/\1/p'; }

# swarm_id URI: the 40-hex info_hash trackers know the stream by
swarm_id() {
	python3 - "$1" <<'PY'
import base64, hashlib, sys
k = sys.argv[1][5:57].upper()
key = base64.b32decode(k + "=" * (-len(k) % 8))
print(hashlib.blake2b(b"p2pl-swarm-1" + key, digest_size=20).hexdigest())
PY
}

# opentracker_start HASH...: Debian's opentracker on 127.0.0.1 with these
# info_hashes whitelisted (it chroots to -d when root and reads -w relative
# to it); sets OT_PID and OT_URL.
opentracker_start() {
	mkdir -m 755 "$T/ot"
	for h in "$@"; do echo "$h"; done >"$T/ot/whitelist"
	chmod 644 "$T/ot/whitelist"
	ot_port=$(free_port)
	opentracker -i 127.0.0.1 -p "$ot_port" -d "$T/ot" -w whitelist \
	    >"$T/ot.log" 2>&1 &
	OT_PID=$!
	PIDS="$PIDS $OT_PID"
	OT_URL=http://127.0.0.1:$ot_port/announce
	wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $ot_port))" ||
	    fail "opentracker did not start: $(cat "$T/ot.log")"
}

# attacker NAME MODE SRC URI [OPTIONS...]: tests/tools/attacker from
# source address SRC (127.0.0.2 and up: honest peers stay on 127.0.0.1, so
# a ban of the attacker's host spares them); sets ATT_PORT and adds its
# pid to ATT_PIDS.  Its count line ends up in $T/NAME.att.
ATT_PIDS=
attacker() {
	name=$1 mode=$2 src=$3 uri=$4
	shift 4
	"$TOOLS/attacker" -b "$src" -d "$T" "$@" "$mode" "$uri" \
	    >"$T/$name.att" 2>"$T/$name.att.err" &
	ATT_PIDS="$ATT_PIDS $!"
	PIDS="$PIDS $!"
	wait_for 10 grep -q '^listening' "$T/$name.att" ||
	    fail "attacker $name did not start: $(cat "$T/$name.att.err")"
	ATT_PORT=$(sed -n 's/^listening //p' "$T/$name.att")
}

# att_stop: SIGTERM every attacker; each prints its counts and exits
att_stop() {
	for p in $ATT_PIDS; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $ATT_PIDS; do wait "$p" || true; done
	ATT_PIDS=
}

# att_count NAME FIELD: a count from attacker NAME's last line (after it
# was stopped with SIGTERM)
att_count() {
	sed -n "s/.* $2 \\([0-9]*\\).*/\\1/p" "$T/$1.att" | tail -n 1
}

# attackers URI MODE...: one attacker a mode, named after it, each from
# its own 127.0.0.x (from .2); SEEDS gets a peer= parameter for each
attackers() {
	uri=$1 i=2
	shift
	SEEDS=
	for m in "$@"; do
		attacker "$m" "$m" "127.0.0.$i" "$uri" -t 60
		SEEDS="$SEEDS&peer=127.0.0.$i:$ATT_PORT"
		i=$((i + 1))
	done
}

# honest_viewers N URI: viewers v1..vN of URI; their pids in HONEST
honest_viewers() {
	HONEST=
	for v in $(seq 1 "$1"); do
		viewer "v$v" "$2"
		HONEST="$HONEST $VIEWER_PID"
	done
}

# honest_stop: note each honest viewer's peak memory and fail over 64 MiB
# (unsanitized builds: ASan keeps its own), stop them, then the attackers
honest_stop() {
	v=0
	for p in $HONEST; do
		v=$((v + 1))
		note "viewer v$v: VmHWM $(hwm "$p") KiB"
		[ -n "${P2PL_SANITIZED:-}" ] || [ "$(hwm "$p")" -lt 65536 ] ||
		    fail "viewer v$v uses $(hwm "$p") KiB"
	done
	for p in $HONEST; do stop "$p"; done
	att_stop
}

# att_banned N NAME...: each attacker was dropped by at least N viewers,
# never let back in, and refused when it tried again
att_banned() {
	n=$1
	shift
	for m in "$@"; do
		note "$(tail -n 1 "$T/$m.att")"
		[ "$(att_count "$m" dropped)" -ge "$n" ] ||
		    fail "$m: dropped by fewer than $n viewers: $(cat "$T/$m.att")"
		[ "$(att_count "$m" readmitted)" -eq 0 ] ||
		    fail "$m: let back in: $(cat "$T/$m.att")"
		[ "$(att_count "$m" refused)" -ge 1 ] ||
		    fail "$m: never tried again: $(cat "$T/$m.att")"
	done
}

# hwm PID: the process's peak resident memory, KiB (VmHWM)
hwm() {
	sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}

# continuity STATS: pieces / (pieces + skipped) of the last line, in
# hundredths of a percent (9950 is 99.50%)
continuity() {
	p=$(last_stat "$1" pieces)
	s=$(last_stat "$1" skipped)
	[ -n "$p" ] && [ "$p" -gt 0 ] || { echo 0; return; }
	echo $((p * 10000 / (p + s)))
}

# plays STATS N: the last stats line says more than N pieces were played
plays() {
	p=$(last_stat "$1" pieces)
	[ -n "$p" ] && [ "$p" -gt "$2" ]
}

# stat_num FILE FIELD: like last_stat, for a whole number, waiting (up to
# 5 s) while the file has no complete line with it yet
stat_num() {
	i=0
	while [ $i -lt 50 ]; do
		v=$(last_stat "$1" "$2")
		case $v in
		''|*[!0-9]*) sleep 0.1 ;;
		*) echo "$v"; return 0 ;;
		esac
		i=$((i + 1))
	done
	fail "no $2 in $1"
}
