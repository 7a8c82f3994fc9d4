#!/bin/sh
# p2pl-fetch -p starts a real player (mpv, no video or audio output) on a
# pipe: it plays a live stream and p2pl-fetch exits 0 when it is done; -r
# records at the same time a file that decodes, the same bytes as the
# stream on stdout, and a recording that fails stops alone; a signal to
# p2pl-fetch stops the player too; a player that fails or cannot be
# started makes p2pl-fetch exit 4.
. "$(dirname "$0")/lib.sh"

command -v mpv >/dev/null || fail "mpv is not installed (contrib/install-deps.sh)"
camera cam
publish cam cam.key
mpv="mpv --no-config --really-quiet --vo=null --ao=null"

# plays 50 frames and ends; the recording decodes
rc=0
timeout 60 p2pl-fetch -p "$mpv --frames=50" -r "$T/rec.ts" --stats \
    "$T/play.stats" "$URI" >"$T/mpv.out" 2>"$T/play.err" </dev/null || rc=$?
[ $rc -eq 0 ] || fail "p2pl-fetch -p exited $rc: $(cat "$T/play.err")"
[ ! -s "$T/play.err" ] || fail "noise on stderr: $(cat "$T/play.err")"
decodes "$T/rec.ts"
note "recorded $(size_of "$T/rec.ts") bytes while mpv played 50 frames"

# stdout and -r get the same bytes
viewer both -r "$T/both.rec" "$URI"
grown() { [ -f "$1" ] && [ "$(size_of "$1")" -gt "$2" ]; }
wait_for 20 grown "$T/both.rec" 200000 ||
    fail "recording did not grow: $(cat "$T/both.err")"
stop "$VIEWER_PID"
decodes "$T/both.out"
cmp -s "$T/both.out" "$T/both.rec" || fail "stdout and -r FILE differ"

# a recording that cannot be written stops with a message; watching goes
# on, and the exit status says so
viewer full -r /dev/full "$URI"
wait_for 20 grown "$T/full.out" 100000 || fail "no output with -r /dev/full"
wait_for 10 grep -q "recording stopped" "$T/full.err" ||
    fail "no message for a full disk: $(cat "$T/full.err")"
kill -TERM "$VIEWER_PID"
rc=0
wait "$VIEWER_PID" || rc=$?
[ $rc -eq 1 ] || fail "-r /dev/full: exited $rc, want 1"
grep -q "p2pl-fetch: -r /dev/full: No space left on device; recording stopped" \
    "$T/full.err" || fail "message: $(cat "$T/full.err")"
decodes "$T/full.out"

# on SIGTERM p2pl-fetch stops the player (given the low-latency options)
# and exits 0
p2pl-fetch -p "$mpv --frames=100000" "$URI" >/dev/null 2>"$T/term.err" &
fpid=$!
PIDS="$PIDS $fpid"
wait_for 10 pgrep -P "$fpid" -x mpv >/dev/null || fail "no mpv child"
mpid=$(pgrep -P "$fpid" -x mpv)
tr '\0' ' ' </proc/"$mpid"/cmdline >"$T/cmdline"
grep -q -- "--profile=low-latency --cache=no .*--frames=100000 -" \
    "$T/cmdline" || fail "player command line: $(cat "$T/cmdline")"
sleep 1
stop "$fpid"
! kill -0 "$mpid" 2>/dev/null || fail "mpv still runs after p2pl-fetch"

# a player that fails, one that is not there
rc=0
p2pl-fetch -p "$mpv --no-such-option" "$URI" >/dev/null 2>"$T/bad.err" || rc=$?
[ $rc -eq 4 ] || fail "failing player: p2pl-fetch exited $rc, want 4"
rc=0
p2pl-fetch -p "$T/no-such-player --x" "$URI" >/dev/null 2>"$T/none.err" ||
    rc=$?
[ $rc -eq 4 ] || fail "missing player: exited $rc, want 4"
grep -q "p2pl-fetch: -p: $T/no-such-player: No such file" "$T/none.err" ||
    fail "missing player: $(cat "$T/none.err")"
rc=0
p2pl-fetch -p mpv --frames "$URI" >/dev/null 2>"$T/frames.err" || rc=$?
[ $rc -eq 2 ] || fail "-p with --frames exited $rc, want 2"
