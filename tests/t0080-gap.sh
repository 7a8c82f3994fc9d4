#!/bin/sh
# A piece that never comes: the viewer's only peer withholds one piece,
# one that completes a frame begun in the piece before
# (and the peer exchange that would lead elsewhere).  The viewer skips it
# at its deadline and resumes at the next join point, and what reaches
# the player still decodes with no error at all: no truncated frame, no
# broken MPEG-TS continuity.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key --piece-size 4096	# frames span pieces
port=${URI##*:}
mport=$(free_port)
"$TOOLS/mitm" -d "$(key_of "$URI")" "$mport" 127.0.0.1 "$port" 40 "$T/withheld" \
    >"$T/mitm.out" 2>"$T/mitm.err" &
PIDS="$PIDS $!"
wait_for 5 grep -q listening "$T/mitm.out" || fail "mitm did not start"
key=${URI%%\?*}
viewer v "$key?peer=127.0.0.1:$mport"
wait_for 20 test -s "$T/withheld" || fail "mitm withheld nothing: $(cat "$T/mitm.err")"
at=$(size_of "$T/v.out")
sleep 4
stop $VIEWER_PID
cat "$T/mitm.err" >&2
skipped=$(last_stat "$T/v.stats" skipped)
[ "$skipped" -ge 1 ] || fail "the viewer skipped nothing: $(tail -n 1 "$T/v.stats")"
[ "$(size_of "$T/v.out")" -gt $((at + 100000)) ] ||
    fail "the viewer did not resume after the gap"
decodes "$T/v.out"
note "viewer skipped $skipped pieces, wrote $(size_of "$T/v.out") bytes, decodes cleanly"
