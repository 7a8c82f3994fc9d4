#!/bin/sh
# tests/bench/three-viewers.sh - the core figures: the issue's ffmpeg
# command (640x360, 25 fps, 800 kbit/s H.264 + AAC) into p2pl-publish and
# three p2pl-fetch viewers on loopback for SECONDS (default 60).  Reports
# each viewer's delay p50/p99 over the whole run and skipped pieces, and
# CPU and peak RSS of the publisher and of one viewer from /usr/bin/time -v.
# A report of figures, not a test: nothing here passes or fails.
set -eu
cd "$(dirname "$0")/../.."
BIN=${P2PL_BIN:-$PWD/build/bin}
SECONDS_=${1:-60}
D=$(mktemp -d "${TMPDIR:-/tmp}/p2pl-bench.XXXXXX")
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null || true; done; rm -rf "$D"' EXIT

mkfifo "$D/feed"
ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=size=640x360:rate=25 \
    -f lavfi -i sine -c:v libx264 -preset ultrafast -tune zerolatency -g 25 \
    -b:v 800k -c:a aac -f mpegts -y "$D/feed" 2>/dev/null &
PIDS="$PIDS $!"
/usr/bin/time -v -o "$D/pub.time" "$BIN/p2pl-publish" -k "$D/cam.key" \
    -l 127.0.0.1:0 --stats "$D/pub.stats" <"$D/feed" >"$D/uri" 2>"$D/pub.err" &
PUB=$!
PIDS="$PIDS $PUB"
while [ ! -s "$D/uri" ]; do sleep 0.1; done
URI=$(head -n 1 "$D/uri")
for v in 1 2 3; do
	/usr/bin/time -v -o "$D/v$v.time" "$BIN/p2pl-fetch" --stats "$D/v$v.stats" \
	    "$URI" 2>"$D/v$v.err" | ffmpeg -nostdin -v error -i - -f null - \
	    2>"$D/v$v.decode" &
	PIDS="$PIDS $!"
done
sleep "$SECONDS_"
# signal the programs, not /usr/bin/time, so time writes its report
pkill -TERM -f "^$BIN/p2pl-fetch --stats $D" || true
sleep 1
pkill -TERM -f "^$BIN/p2pl-publish -k $D" || true
wait $PUB 2>/dev/null || true
sleep 0.5

field() { tail -n 1 "$1" | sed -e 's/,"neighbours":\[.*/}/' -n -e "s/.*\"$2\":\\([^,}]*\\).*/\\1/p"; }
tfield() { sed -n "s/^[[:space:]]*$2: //p" "$1"; }
echo "p2pl core figures: $SECONDS_ s, 640x360 25 fps 800 kbit/s H.264 + AAC, 3 viewers on loopback"
echo "stream bitrate (publisher's measure): $(field "$D/pub.stats" bitrate) bit/s"
printf '%-10s %8s %10s %10s %8s %12s\n' who pieces "delay p50" "delay p99" skipped decode-errors
for v in 1 2 3; do
	printf '%-10s %8s %9ss %9ss %8s %12s\n' "viewer$v" "$(field "$D/v$v.stats" pieces)" \
	    "$(field "$D/v$v.stats" delay_p50_all)" "$(field "$D/v$v.stats" delay_p99_all)" \
	    "$(field "$D/v$v.stats" skipped)" "$(wc -l <"$D/v$v.decode")"
done
for who in pub v1; do
	u=$(tfield "$D/$who.time" "User time (seconds)")
	s=$(tfield "$D/$who.time" "System time (seconds)")
	w=$(tfield "$D/$who.time" "Elapsed (wall clock) time (h:mm:ss or m:ss)")
	rss=$(tfield "$D/$who.time" "Maximum resident set size (kbytes)")
	cpu=$(echo "$u $s $w" | awk '{ n = split($3, t, ":"); secs = 0;
	    for (i = 1; i <= n; i++) secs = secs * 60 + t[i];
	    printf "%.2f", 100 * ($1 + $2) / secs }')
	printf '%-10s cpu %ss user+sys over %s wall = %s%% of a core, peak RSS %s KiB\n' \
	    "$([ $who = pub ] && echo publisher || echo viewer1)" \
	    "$(echo "$u + $s" | bc)" "$w" "$cpu" "$rss"
done
