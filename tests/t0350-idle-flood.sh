#!/bin/sh
# 10,000 connections (1,000 under sanitizers) opened to a relay from 64
# loopback addresses and left silent.  The relay keeps at most 64 waiting
# for their HELLO per address and 1024 in all, evicting the oldest, and
# drops any still silent after 10 s; the viewers it served before the
# flood keep decoding with continuity >= 99%, viewers that join during the
# flood get in and decode, and the relay's descriptors and memory stay
# bounded: with --max-peers 256, by 1,024 waiting + 256 peers + its own.
. "$(dirname "$0")/lib.sh"

count=10000
[ -z "${P2PL_SANITIZED:-}" ] || count=1000
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
camera cam
p2pl-publish -k "$T/cam.key" -o - <"$T/cam.ts" 2>"$T/pub.err" |
    p2pl-relay -i - -l 127.0.0.1:0 --max-peers 256 --stats "$T/relay.stats" \
    >"$T/relay.uri" 2>"$T/relay.err" &
RELAY_PID=$!
PIDS="$PIDS $!"
wait_for 10 test -s "$T/relay.uri" || fail "no uri from the relay: $(cat "$T/relay.err" "$T/pub.err")"
URI=$(head -n 1 "$T/relay.uri")
rport=${URI##*:}
viewer before1 "$URI"
b1=$VIEWER_PID
viewer before2 "$URI"
b2=$VIEWER_PID
sleep 3
attacker idle idle 127.0.0.2 "$URI" -t 120 -n $count -c 127.0.0.1:$rport
# a connect waits while the relay's accept queue is full: on a loaded
# machine opening them all takes longer (5 s when idle)
wait_for 90 grep -q '^opened' "$T/idle.att" ||
    fail "the attacker did not finish opening: $(cat "$T/idle.att.err")"
note "attacker: $(grep '^opened' "$T/idle.att") connections opened"
viewer during1 "$URI"
d1=$VIEWER_PID
viewer during2 "$URI"
d2=$VIEWER_PID
maxfd=0
for i in $(seq 1 8); do
	fds=$(ls /proc/$RELAY_PID/fd | wc -l)
	[ "$fds" -le "$maxfd" ] || maxfd=$fds
	sleep 1
done
note "relay: at most $maxfd descriptors seen during the flood, VmHWM $(hwm $RELAY_PID) KiB"
# the bound: 1024 waiting for their first frame, 256 peers of the stream
# (--max-peers; an idle attacker that sends its HELLO is a peer until
# evicted), and
# the relay's own few (listeners, viewers, logs)
[ "$maxfd" -le $((1024 + 256 + 100)) ] || fail "relay holds $maxfd descriptors"
[ -n "${P2PL_SANITIZED:-}" ] || [ "$(hwm $RELAY_PID)" -lt 65536 ] ||
    fail "relay uses $(hwm $RELAY_PID) KiB"
att_stop
note "$(tail -n 1 "$T/idle.att")"
[ "$(att_count idle conns)" -ge "$count" ] ||
    fail "the attacker opened fewer than $count: $(cat "$T/idle.att" "$T/idle.att.err")"
for p in $b1 $b2 $d1 $d2; do stop $p; done
for v in before1 before2 during1 during2; do
	decodes "$T/$v.out"
	c=$(continuity "$T/$v.stats")
	note "$v: continuity $c/10000, $(size_of "$T/$v.out") bytes"
	[ "$c" -ge 9900 ] || fail "$v: continuity $c/10000"
done
