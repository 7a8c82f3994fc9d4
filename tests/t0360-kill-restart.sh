#!/bin/sh
# Everything killed with SIGKILL and restarted, in turn: the tracker and
# the relay, then the publisher, then the tracker, relay and publisher come
# back (each on its old port), and a viewer is killed and started again.
# The viewers resume on their own after each blow: their output grows
# again; what they wrote before the publisher was first killed (across the
# tracker's and relay's deaths) decodes without error, and so does what
# they wrote after the last restart.  (The whole output across publisher
# restarts is not checked here: after the jump back of the timestamps,
# ffmpeg's own correction sometimes leaves audio a few milliseconds
# behind, which -xerror rejects; t0040 checks one restart.)
. "$(dirname "$0")/lib.sh"

p2pl-publish -k "$T/cam.key" -o "$T/probe" /dev/null >"$T/probe.uri" \
    2>"$T/probe.err" || true
skey=$(sed -n 's/^\(p2pl:[a-z2-7]*\).*/\1/p' "$T/probe.uri" | head -n 1)
[ -n "$skey" ] || fail "no key: $(cat "$T/probe.err")"
ot_start() {
	opentracker -i 127.0.0.1 -p "$ot_port" -d "$T/ot" -w whitelist \
	    >>"$T/ot.log" 2>&1 &
	OT_PID=$!
	PIDS="$PIDS $OT_PID"
}
opentracker_start "$(swarm_id "$skey")"
ot_port=${OT_URL#http://127.0.0.1:}
ot_port=${ot_port%/announce}
pport=$(free_port)
rport=$(free_port)
pub_start() {
	rm -f "$T/cam.ts"
	camera cam
	p2pl-publish -k "$T/cam.key" -l 127.0.0.1:$pport -t "$OT_URL" \
	    <"$T/cam.ts" >"$T/pub.uri" 2>>"$T/pub.err" &
	PUB_PID=$!
	PIDS="$PIDS $PUB_PID"
}
relay_start() {
	p2pl-relay -l 127.0.0.1:$rport "$skey?peer=127.0.0.1:$pport" \
	    >/dev/null 2>>"$T/relay.err" &
	RELAY_PID=$!
	PIDS="$PIDS $RELAY_PID"
}
pub_start
relay_start
tr=$(echo "$OT_URL" | sed 's/:/%3A/g; s|/|%2F|g')
uri="$skey?tr=$tr&peer=127.0.0.1:$pport&peer=127.0.0.1:$rport"
for v in v1 v2 v3 v4; do
	viewer $v "$uri"
	eval "${v}_pid=\$VIEWER_PID"
done
grown() { [ "$(size_of "$T/$1.out")" -gt "$2" ]; }
# all_grow SECS: every running viewer's output grows by 50 kB within SECS
all_grow() {
	for v in $live; do eval "b_$v=\$(size_of \"\$T/\$v.out\")"; done
	for v in $live; do
		eval "wait_for $1 grown $v \$((b_$v + 50000))" ||
		    fail "$v did not resume ($2): $(tail -n 5 "$T/$v.err")"
	done
	note "$2: all viewers resumed"
	sleep 3	# a session of some seconds, as a player would see
}
live="v1 v2 v3 v4"
all_grow 15 "start"
kill -9 $OT_PID $RELAY_PID
all_grow 10 "tracker and relay killed"
for v in $live; do eval "head_$v=\$(size_of \"\$T/\$v.out\")"; done
kill -9 $PUB_PID $CAMERA_PID
sleep 2
pub_start
all_grow 15 "publisher killed and restarted"
ot_start
relay_start
kill -9 $v1_pid
viewer v1b "$uri"
v1b_pid=$VIEWER_PID
live="v1b v2 v3 v4"
all_grow 15 "tracker, relay and viewer v1 restarted"
kill -9 $RELAY_PID $PUB_PID $CAMERA_PID
sleep 1
relay_start
sleep 1
# the old session is played out or given up on by now (latency: 1 s)
for v in $live; do eval "cut_$v=\$(size_of \"\$T/\$v.out\")"; done
pub_start
all_grow 15 "relay and publisher killed, relay restarted first"
for v in $live; do
	eval "stop \$${v}_pid"
	eval "tail -c +\$((cut_$v + 1)) \"\$T/\$v.out\"" >"$T/$v.after.ts"
	decodes "$T/$v.after.ts"
	note "$v: $(size_of "$T/$v.out") bytes, $(size_of "$T/$v.after.ts") after the last restart decode"
done
for v in v1 v2 v3 v4; do
	eval "head -c \$head_$v \"\$T/\$v.out\"" >"$T/$v.before.ts"
	decodes "$T/$v.before.ts"
done
note "before the publisher was killed: all decode"
