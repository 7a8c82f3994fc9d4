#!/bin/sh
# A publisher takes more than 1,000 connections (300 under sanitizers;
# it used to stop at 256), though started with the soft limit on open
# files at Debian's 1,024: it raises the limit itself.  1,100 peers from
# 64 source addresses (the attacker's crowd: each completes the handshake
# with an id of its own, then only answers PINGs) connect to it; its stats
# count them as peers (and list 256 of them), and a viewer that joins
# among them still plays and decodes.  With --max-peers 300 it keeps at most 300.
. "$(dirname "$0")/lib.sh"

count=1100
[ -z "${P2PL_SANITIZED:-}" ] || count=300
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge 4096 ] ||
    fail "the hard limit on open files is $hard: this test wants 4096"
camera cam
ulimit -Sn 1024
publish cam cam.key
ulimit -Sn "$hard"
pport=${URI##*:}
soft=$(awk '/^Max open files/ {print $4}' "/proc/$PUB_PID/limits")
note "publisher's soft limit on open files: $soft"
[ "$soft" -gt $((count + 256)) ] ||
    fail "the publisher left its limit at $soft"
attacker crowd crowd 127.0.0.2 "$URI" -t 60 -n $count -c 127.0.0.1:$pport
wait_for 90 grep -q '^opened' "$T/crowd.att" ||
    fail "the attacker did not finish opening: $(cat "$T/crowd.att.err")"
note "attacker: $(grep '^opened' "$T/crowd.att") connections opened"
viewer v1 "$URI"
v1=$VIEWER_PID
sleep 10
peers=$(stat_num "$T/cam.pub.stats" peers)
note "publisher: $peers peers"
[ "$peers" -gt "$count" ] ||
    fail "the publisher holds $peers peers of $count + 1"
# its stats line lists 256 of them and counts the rest
u=$(last_stat "$T/cam.pub.stats" neighbours_unlisted)
listed=$(tail -n 1 "$T/cam.pub.stats" | grep -o '"addr":' | wc -l)
note "its stats line: $listed neighbours listed, ${u:-no} more counted"
[ "$listed" -eq 256 ] && [ "${u:-0}" -ge $((count - 256)) ] ||
    fail "stats line: $listed listed, ${u:-none} unlisted"
att_stop
stop $v1
decodes "$T/v1.out"
c=$(continuity "$T/v1.stats")
note "v1: $(last_stat "$T/v1.stats" pieces) pieces, continuity $c/10000"
[ "$c" -ge 9900 ] || fail "v1: continuity $c/10000"
grep -q "descriptors" "$T/cam.pub.err" &&
    fail "the publisher says it is short of descriptors: $(cat "$T/cam.pub.err")"

# a cap of its own: --max-peers 300
ATT_PIDS=
camera cam2
publish cam2 cam2.key --max-peers 300
attacker crowd2 crowd 127.0.0.2 "$URI" -t 60 -n 400 -c 127.0.0.1:${URI##*:}
wait_for 90 grep -q '^opened' "$T/crowd2.att" ||
    fail "the attacker did not finish opening: $(cat "$T/crowd2.att.err")"
sleep 3
peers=$(stat_num "$T/cam2.pub.stats" peers)
note "publisher with --max-peers 300: $peers peers of 400 wanting in"
[ "$peers" -le 300 ] && [ "$peers" -ge 250 ] ||
    fail "--max-peers 300: $peers peers"
att_stop
