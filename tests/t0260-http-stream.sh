#!/bin/sh
# p2pl-fetch --http serves the live MPEG-TS at /stream.ts (and /) while it
# writes stdout: ffprobe, ffmpeg and mpv read it as HTTP clients and
# decode it without an error, several at once.  A client that never reads
# and one that reads 1 kB/s are skipped forward (with a line on stderr)
# and hold up neither a fast client nor the viewer's own stdout.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
hp=$(free_port)
viewer v --http 127.0.0.1:$hp "$URI"
V=$VIEWER_PID
url=http://127.0.0.1:$hp/stream.ts
wait_for 15 listening $hp || fail "no http listener: $(cat "$T/v.err")"
grown() { [ "$(size_of "$1")" -gt "$2" ]; }
wait_for 15 grown "$T/v.out" 100000 || fail "v got nothing: $(cat "$T/v.err")"

# the answer's head
curl -sS -m 2 -D "$T/head" -o "$T/curl.ts" "$url" 2>/dev/null || true
grep -q '^HTTP/1.1 200' "$T/head" || fail "no 200: $(cat "$T/head")"
grep -qi '^Content-Type: video/mp2t' "$T/head" || fail "type: $(cat "$T/head")"
[ "$(head -c 1 "$T/curl.ts" | od -An -tx1 | tr -d ' ')" = 47 ] ||
    fail "the body does not start with a TS packet"

# frames NAME URL N: ffmpeg decodes N video frames from URL, no error
frames() {
	rc=0
	timeout 60 ffmpeg -nostdin -v error -i "$2" -map 0:v -frames:v "$3" \
	    -f framecrc "$T/$1.crc" 2>"$T/$1.fferr" || rc=$?
	[ $rc -eq 0 ] || fail "$1: ffmpeg exited $rc: $(head -c 500 "$T/$1.fferr")"
	[ ! -s "$T/$1.fferr" ] || fail "$1: decode errors: $(head -c 500 "$T/$1.fferr")"
	n=$(grep -vc '^#' "$T/$1.crc")
	[ "$n" -eq "$3" ] || fail "$1: $n frames, not $3"
}

ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$url" \
    >"$T/probe" 2>"$T/probe.err" || fail "ffprobe: $(cat "$T/probe.err")"
[ ! -s "$T/probe.err" ] || fail "ffprobe: $(cat "$T/probe.err")"
grep -qx h264 "$T/probe" && grep -qx aac "$T/probe" ||
    fail "ffprobe sees: $(cat "$T/probe")"
frames one "$url" 75
frames root "http://127.0.0.1:$hp/" 25
note "ffprobe and ffmpeg read /stream.ts and / (75 frames, no error)"

rc=0
timeout 60 mpv --no-config --really-quiet --vo=null --ao=null --frames=50 \
    "$url" >"$T/mpv.out" 2>&1 || rc=$?
[ $rc -eq 0 ] || fail "mpv exited $rc: $(tail -c 500 "$T/mpv.out")"
note "mpv played 50 frames"

# four at once
for i in 1 2 3 4; do
	( frames "many$i" "$url" 100 ) &
	eval "m$i=\$!"
done
for i in 1 2 3 4; do
	eval "wait \$m$i" || fail "client many$i failed"
done
note "four clients at once decoded 100 frames each"

# a client that never reads, and one at 1 kB/s
python3 - "$hp" >"$T/stuck.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /stream.ts HTTP/1.1\r\nHost: x\r\n\r\n")
print("connected", flush=True)
time.sleep(600)
PY
STUCK=$!
PIDS="$PIDS $STUCK"
curl -sS --limit-rate 1k -o /dev/null "$url" 2>/dev/null &
SLOW=$!
PIDS="$PIDS $SLOW"
wait_for 60 grep -q 'too slow' "$T/v.err" ||
    fail "no client was skipped: $(cat "$T/v.err")"
note "$(grep -m 1 'too slow' "$T/v.err")"
before=$(size_of "$T/v.out")
frames fast "$url" 100
[ "$(size_of "$T/v.out")" -gt $((before + 100000)) ] ||
    fail "stdout stalled while slow clients were connected"
note "with a stuck and a 1 kB/s client: a fast client decoded 100 frames, stdout went on"
skipped=$(stat_num "$T/v.stats" http_skipped)
streams=$(stat_num "$T/v.stats" http_streams)
note "http_skipped $skipped, http_streams $streams"
[ "$skipped" -gt 0 ] || fail "no piece skipped for the slow clients"
[ "$streams" -ge 2 ] || fail "the slow clients are gone: $streams streams"
kill $STUCK $SLOW
gone() { [ "$(stat_num "$T/v.stats" http_streams)" -eq 0 ]; }
wait_for 15 gone || fail "clients that left are still counted"
stop $V
decodes "$T/v.out"
grep -v 'too slow' "$T/v.err" >"$T/v.err2" || true
[ ! -s "$T/v.err2" ] || fail "v wrote to stderr: $(cat "$T/v.err2")"
