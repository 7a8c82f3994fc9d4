#!/bin/sh
# A crowd from one address: 1,000 connections (300 under sanitizers) to
# the publisher from 127.0.0.2, each completing the handshake with an id
# of its own and then doing nothing, every one the publisher closes opened
# again.  The publisher (--max-peers 256) is full of them, but while it
# is full an address that holds 64 places gets no new one, and gives up
# its newest when another address wants in: viewers that join during the flood get in,
# find each other, play and decode, and the viewer from before keeps
# playing.
. "$(dirname "$0")/lib.sh"

count=1000
[ -z "${P2PL_SANITIZED:-}" ] || count=300
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
camera cam
publish cam cam.key --max-peers 256
pport=${URI##*:}
viewer before1 "$URI"
b1=$VIEWER_PID
sleep 3
attacker crowd crowd 127.0.0.2 "$URI" -a 1 -t 60 -n $count -c 127.0.0.1:$pport
wait_for 90 grep -q '^opened' "$T/crowd.att" ||
    fail "the attacker did not finish opening: $(cat "$T/crowd.att.err")"
note "attacker: $(grep '^opened' "$T/crowd.att") connections opened"
viewer during1 "$URI"
d1=$VIEWER_PID
viewer during2 "$URI"
d2=$VIEWER_PID
sleep 12
crowd=$(tail -n 1 "$T/cam.pub.stats" | grep -o '"addr":"127\.0\.0\.2:' | wc -l)
note "publisher: $(stat_num "$T/cam.pub.stats" peers) peers, $crowd of them the crowd's"
att_stop
note "$(tail -n 1 "$T/crowd.att")"
for p in $b1 $d1 $d2; do stop $p; done
for v in before1 during1 during2; do
	decodes "$T/$v.out"
	p=$(last_stat "$T/$v.stats" pieces)
	c=$(continuity "$T/$v.stats")
	note "$v: $p pieces, continuity $c/10000"
	[ "$p" -ge 50 ] || fail "$v played $p pieces: $(cat "$T/$v.err")"
	[ "$c" -ge 9900 ] || fail "$v: continuity $c/10000"
done
