#!/bin/sh
# A network camera (ffmpeg serving MPEG-TS over HTTP) is published by URL;
# the camera is killed and started again, twice, then hangs (SIGSTOP: the
# connection stays open but no data comes, so the --timeout watchdog
# fires) and is replaced by a new one.  The publisher keeps its
# swarm up and reopens the input; the viewer stays attached and its whole
# output decodes, grows after each return, keeps its timestamps
# increasing and marks each splice with the MPEG-TS discontinuity
# indicator.
. "$(dirname "$0")/lib.sh"

port=$(free_port)
http_camera cam "$port"
p2pl-publish -k "$T/cam.key" -l 127.0.0.1:0 --stats "$T/pub.stats" --timeout 2 \
    "http://127.0.0.1:$port" >"$T/uri" 2>"$T/pub.err" &
PUB_PID=$!
PIDS="$PIDS $PUB_PID"
wait_for 10 test -s "$T/uri" || fail "no uri: $(cat "$T/pub.err")"
viewer v "$(head -n 1 "$T/uri")"
grown() { [ "$(size_of "$T/v.out")" -gt $(($1 + 60000)) ]; }
# said PATTERN N: the publisher said PATTERN at least N times
said() { [ "$(grep -c "$1" "$T/pub.err")" -ge "$2" ]; }
wait_for 15 grown 0 || fail "viewer got nothing: $(cat "$T/v.err" "$T/pub.err")"

for round in 1 2 3; do
	if [ $round -lt 3 ]; then
		kill -9 $CAMERA_PID
		wait $CAMERA_PID 2>/dev/null || true
		wait_for 10 said 'input lost' $round ||
		    fail "publisher did not notice the camera went: $(cat "$T/pub.err")"
	else
		kill -STOP $CAMERA_PID
		wait_for 10 said 'input lost: input timed out after 2 s' 1 ||
		    fail "the watchdog did not fire: $(cat "$T/pub.err")"
		kill -9 $CAMERA_PID
		wait $CAMERA_PID 2>/dev/null || true
	fi
	before=$(size_of "$T/v.out")
	sleep 1
	kill -0 $PUB_PID || fail "publisher exited: $(cat "$T/pub.err")"
	kill -0 $VIEWER_PID || fail "viewer exited: $(cat "$T/v.err")"
	http_camera cam "$port"
	wait_for 15 said 'input back' $round ||
	    fail "input not back: $(cat "$T/pub.err")"
	wait_for 15 grown "$before" ||
	    fail "viewer did not resume after restart $round: $(cat "$T/v.err")"
	note "restart $round: output $before -> $(size_of "$T/v.out") bytes"
done
kill -0 $PUB_PID || fail "publisher exited: $(cat "$T/pub.err")"
reopens() { [ "$(last_stat "$T/pub.stats" reopens)" = 3 ]; }
wait_for 3 reopens ||
    fail "publisher stats say $(last_stat "$T/pub.stats" reopens) reopens"
stop $VIEWER_PID
stop $PUB_PID
grep -qi "sanitizer\|runtime error" "$T/pub.err" "$T/v.err" &&
    fail "$(cat "$T/pub.err" "$T/v.err")"

# the player saw one stream across both outages
decodes "$T/v.out"
dts_monotonic "$T/v.out" || fail "timestamps go back in the output"
# each opening's first packets carry the discontinuity indicator on the
# video PID (adaptation field with the indicator bit), and the viewer
# renumbered the continuity counters so that they never skip
python3 - "$T/v.out" >"$T/ts.check" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
disc, skips, cc = 0, 0, {}
for i in range(0, len(d) - 187, 188):
    p = d[i:i + 188]
    pid = (p[1] & 0x1f) << 8 | p[2]
    if pid == 0x100 and p[3] & 0x20 and p[4] > 0 and p[5] & 0x80:
        disc += 1
    if not p[3] & 0x10:
        continue
    if pid in cc and (cc[pid] + 1) % 16 != p[3] & 0x0f:
        skips += 1
    cc[pid] = p[3] & 0x0f
print(disc, skips)
PY
read disc skips <"$T/ts.check"
[ "$disc" -ge 3 ] || fail "$disc video packets flag a discontinuity, want 3 or more"
[ "$skips" -eq 0 ] || fail "continuity counters skip $skips times"
note "$(grep -c . "$T/pub.err") publisher lines: $(grep 'input back' "$T/pub.err" | tr '\n' ' ')"
