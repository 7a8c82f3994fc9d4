#!/bin/sh
# A viewer's player pauses: the process reading its stdout is stopped
# (SIGSTOP) for 10 s.  Meanwhile the viewer's memory stays bounded (its
# output buffer holds at most 2 MiB, then it drops pieces until a join
# point), it keeps uploading to its neighbours, and a viewer that knows
# only it keeps decoding.  When the reader resumes, the viewer goes on at
# live (it dropped pieces rather than replaying the pause) and all it
# wrote decodes.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
aport=$(free_port)
mkfifo "$T/a.fifo"
cat "$T/a.fifo" >"$T/a.out" &
READER=$!
PIDS="$PIDS $READER"
p2pl-fetch --stats "$T/a.stats" -l 127.0.0.1:$aport "$URI" \
    >"$T/a.fifo" 2>"$T/a.err" &
A=$!
PIDS="$PIDS $A"
key=${URI%%\?*}
viewer b "$key?peer=127.0.0.1:$aport"
B=$VIEWER_PID
grown() { [ "$(size_of "$T/$1.out")" -gt "$2" ]; }
wait_for 15 grown a 100000 || fail "a got nothing: $(cat "$T/a.err")"
wait_for 15 grown b 100000 || fail "b got nothing: $(cat "$T/b.err")"
up0=$(stat_num "$T/a.stats" up_bytes)
skip0=$(stat_num "$T/a.stats" skipped)
kill -STOP $READER
sleep 10
a_paused=$(size_of "$T/a.out")
up1=$(stat_num "$T/a.stats" up_bytes)
note "a, paused 10 s: VmHWM $(hwm $A) KiB, uploaded $((up1 - up0)) bytes meanwhile"
[ -n "${P2PL_SANITIZED:-}" ] || [ "$(hwm $A)" -lt 65536 ] ||
    fail "a uses $(hwm $A) KiB"
[ "$((up1 - up0))" -gt 100000 ] || fail "a stopped serving: $up0 -> $up1"
b_now=$(size_of "$T/b.out")
kill -CONT $READER
wait_for 15 grown a $((a_paused + 300000)) || fail "a did not resume"
wait_for 15 grown b $((b_now + 100000)) || fail "b stopped"
skip1=$(stat_num "$T/a.stats" skipped)
note "a dropped $((skip1 - skip0)) pieces during the pause, delay_p50 now $(last_stat "$T/a.stats" delay_p50) s"
[ "$skip1" -gt "$skip0" ] || fail "a replayed the pause instead of going on at live"
stop $A
stop $B
wait $READER || true
decodes "$T/a.out"
decodes "$T/b.out"
c=$(continuity "$T/b.stats")
note "b: continuity $c/10000"
[ "$c" -ge 9900 ] || fail "b: continuity $c/10000"
