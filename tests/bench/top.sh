#!/bin/sh
# tests/bench/top.sh - what p2pl-top costs: a publisher and 10 viewers on
# loopback, p2pl-top drawing them in a detached tmux at the default 1 s
# refresh for SECONDS (default 60); reports its CPU share of one core and
# its peak RSS.  A report of figures, not a test.
set -eu
cd "$(dirname "$0")/../.."
BIN=${P2PL_BIN:-$PWD/build/bin}
SECONDS_=${1:-60}
D=$(mktemp -d "${TMPDIR:-/tmp}/p2pl-bench.XXXXXX")
S=p2pl-bench-top-$$
PIDS=
trap 'tmux -L $S kill-server 2>/dev/null || true
for p in $PIDS; do kill $p 2>/dev/null || true; done; rm -rf "$D"' EXIT
mkdir -m 700 "$D/run"
export XDG_RUNTIME_DIR="$D/run"

mkfifo "$D/feed"
ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=size=640x360:rate=25 \
    -f lavfi -i sine -c:v libx264 -preset ultrafast -tune zerolatency -g 25 \
    -b:v 800k -c:a aac -f mpegts -y "$D/feed" 2>/dev/null &
PIDS="$PIDS $!"
"$BIN/p2pl-publish" -k "$D/cam.key" -l 127.0.0.1:0 <"$D/feed" >"$D/uri" \
    2>"$D/pub.err" &
PIDS="$PIDS $!"
while [ ! -s "$D/uri" ]; do sleep 0.1; done
URI=$(head -n 1 "$D/uri")
for v in 1 2 3 4 5 6 7 8 9 10; do
	"$BIN/p2pl-fetch" "$URI" >/dev/null 2>"$D/v$v.err" &
	PIDS="$PIDS $!"
done
sleep 3
tmux -f /dev/null -L "$S" new-session -d -x 80 -y 24 \
    "env LANG=C.UTF-8 XDG_RUNTIME_DIR='$D/run' '$BIN/p2pl-top'"
sleep 2
top=$(tmux -L "$S" display -p '#{pane_pid}')
ticks() { awk '{ print $14 + $15 }' "/proc/$top/stat"; }
t0=$(ticks)
sleep "$SECONDS_"
t1=$(ticks)
hz=$(getconf CLK_TCK)
echo "p2pl-top, 1 publisher and 10 viewers, 1 s refresh, $SECONDS_ s:"
echo "  CPU $(echo "scale=2; ($t1 - $t0) * 100 / $hz / $SECONDS_" | bc)% of a core," \
    "peak RSS $(sed -n 's/^VmHWM:[[:space:]]*//p' "/proc/$top/status")"
