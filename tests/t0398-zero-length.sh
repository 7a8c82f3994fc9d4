#!/bin/sh
# A peer that completes the handshake and then sends a message header
# announcing length 0, with nothing after it: the viewer refuses it at
# once as a malformed message (not, ten seconds later, as one that
# trickles in too slowly), bans it, and keeps playing.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
viewer v1 "$URI"
v1=$VIEWER_PID
wait_for 20 plays "$T/v1.stats" 10 || fail "v1 does not play: $(cat "$T/v1.err")"
attacker zerolen zerolen 127.0.0.2 "$URI" -t 30 \
    -c "127.0.0.1:$(stat_num "$T/v1.stats" listen)"
# the old way it waited MSG_TIMEOUT (10 s) before calling it slow
sleep 4
att_stop
note "$(tail -n 1 "$T/zerolen.att")"
grep -q "127\.0\.0\.2:.*message length 0 out of bounds; dropped" "$T/v1.err" ||
    fail "the empty message was not refused as such: $(cat "$T/v1.err")"
[ "$(att_count zerolen dropped)" -ge 1 ] && [ "$(att_count zerolen readmitted)" -eq 0 ] ||
    fail "the attacker was not dropped for good: $(cat "$T/zerolen.att")"
stop $v1
decodes "$T/v1.out"
