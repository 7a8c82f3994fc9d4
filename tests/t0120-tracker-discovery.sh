#!/bin/sh
# Viewers whose URI names only a tracker (Debian's opentracker) find the
# publisher and each other through it; when the tracker is killed mid-stream
# they keep playing, and a newcomer still joins through a viewer's address.
. "$(dirname "$0")/lib.sh"

# the publisher's key, and so the swarm id, before it starts
p2pl-publish -k "$T/cam.key" -o "$T/probe" /dev/null >"$T/probe.uri" \
    2>"$T/probe.err" || true
skey=$(sed -n 's/^\(p2pl:[a-z2-7]*\).*/\1/p' "$T/probe.uri" | head -n 1)
[ -n "$skey" ] || fail "no key: $(cat "$T/probe.err")"
opentracker_start "$(swarm_id "$skey")"
camera cam
publish cam cam.key -t "$OT_URL"
case $URI in *"tr=http%3A%2F%2F127.0.0.1%3A"*) ;; *) fail "no tracker in $URI" ;; esac
only="$skey?tr=$(echo "$OT_URL" | sed 's/:/%3A/g; s|/|%2F|g')"
for v in v1 v2 v3; do
	viewer $v "$only"
	eval "${v}_pid=\$VIEWER_PID"
	sleep 0.3
done
grown() { [ "$(size_of "$T/$1.out")" -gt "$2" ]; }
for v in v1 v2 v3; do
	wait_for 10 grown $v 50000 || fail "$v found nothing: $(cat "$T/$v.err")"
done
# the tracker goes away: the swarm goes on
kill -9 $OT_PID
sleep 1
for v in v1 v2 v3; do
	eval "before_$v=\$(size_of \"\$T/\$v.out\")"
done
sleep 5
for v in v1 v2 v3; do
	eval "grown $v \$before_$v" || fail "$v stopped with the tracker"
done
# a newcomer given a viewer's address joins without the tracker
v1port=$(sed -n 's/.*"listen":\([0-9]*\).*/\1/p' "$T/v1.stats" | tail -n 1)
[ -n "$v1port" ] || fail "no listen port in v1's stats"
viewer late "$skey?peer=127.0.0.1:$v1port"
late_pid=$VIEWER_PID
wait_for 10 grown late 50000 || fail "newcomer did not join: $(cat "$T/late.err")"
sleep 2
for v in v1 v2 v3 late; do
	eval "stop \$${v}_pid"
	decodes "$T/$v.out"
	[ "$(last_stat "$T/$v.stats" skipped)" -eq 0 ] || fail "$v skipped pieces"
done
note "3 viewers found the swarm through opentracker and outlived it"
