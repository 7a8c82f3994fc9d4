#!/bin/sh
# The publisher is killed and restarted with the same key: the URI stays
# the same and the viewer, which keeps retrying, resumes by itself.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
first=$URI
port=${URI##*:}
viewer v "$URI"
sleep 4
kill -9 $PUB_PID $CAMERA_PID
wait $PUB_PID 2>/dev/null || true
# once the viewer saw the connection drop it has written all it will
wait_for 10 grep -q retrying "$T/v.err" || fail "viewer did not notice"
before=$(size_of "$T/v.out")
[ "$before" -gt 0 ] || fail "nothing played before the restart"
sleep 2
kill -0 $VIEWER_PID || fail "viewer gave up"
rm -f "$T/cam.ts"
camera cam
p2pl-publish -k "$T/cam.key" -l 127.0.0.1:$port <"$T/cam.ts" \
    >"$T/cam2.uri" 2>"$T/cam2.err" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/cam2.uri" || fail "publisher did not restart: $(cat "$T/cam2.err")"
[ "$(head -n 1 "$T/cam2.uri")" = "$first" ] || fail "uri changed across restart"
grown() { [ "$(size_of "$T/v.out")" -gt $((before + 100000)) ]; }
wait_for 15 grown ||
    fail "viewer did not resume: $(cat "$T/v.err"; cat "$T/cam2.err"; cat $T/v.stats | tail -3)"
stop $VIEWER_PID
grep -q "connected" "$T/v.err" || fail "viewer did not say it reconnected"
# the player sees one stream across the restart: the whole output decodes,
# and so does what was played after the restart on its own
decodes "$T/v.out"
tail -c +$((before + 1)) "$T/v.out" >"$T/after.ts"
decodes "$T/after.ts"
note "$(cat "$T/v.err" | tr '\n' ' ')"
