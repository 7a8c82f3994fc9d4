#!/bin/sh
# P2PL_NET_DELAY (a testing knob, p2pl(7) ENVIRONMENT): with 300 ms set
# for the publisher and its viewer, every byte each sends waits 300 ms, so
# the viewer's PING round trip is at least 600 ms and its pieces are at
# least 300 ms late; a pair without it, run alongside, is only noted (its
# figures depend on the machine).  A bad value is refused at startup.
. "$(dirname "$0")/lib.sh"

camera fast
publish fast fast.key
for bad in 1O0 -1 10001 5ms; do
	rc=0
	P2PL_NET_DELAY=$bad p2pl-fetch "$URI" >/dev/null 2>"$T/bad.err" ||
	    rc=$?
	[ $rc -eq 1 ] || fail "P2PL_NET_DELAY=$bad: exit $rc, not 1"
	grep -q '^p2pl-fetch: P2PL_NET_DELAY: want milliseconds' "$T/bad.err" ||
	    fail "P2PL_NET_DELAY=$bad: $(cat "$T/bad.err")"
done
viewer fast "$URI"
fast_pid=$VIEWER_PID

camera slow
P2PL_NET_DELAY=300 publish slow slow.key
P2PL_NET_DELAY=300 p2pl-fetch --stats "$T/slow.stats" "$URI" \
    >"$T/slow.out" 2>"$T/slow.err" &
slow_pid=$!
PIDS="$PIDS $slow_pid"

# two PINGs (one every 5 s) and some seconds of pieces
sleep 12
stop "$fast_pid"
stop "$slow_pid"
grep -q 'P2PL_NET_DELAY: holding' "$T/slow.err" ||
    fail "the delayed viewer did not say so: $(cat "$T/slow.err")"
for v in fast slow; do
	decodes "$T/$v.out"
	python3 - "$T/$v.stats" >"$T/$v.fig" <<'PY' || fail "$v: no stats"
import json, sys
last = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
rtt = [p["rtt"] for p in last["neighbours"] if p["role"] == "publisher"]
print(last["pieces"], last["delay_p50_all"], rtt[0] if rtt else "none")
PY
	read -r pieces p50 rtt <"$T/$v.fig"
	note "$v: $pieces pieces, delay p50 $p50 s, publisher rtt $rtt s"
	[ "$pieces" -gt 50 ] || fail "$v played only $pieces pieces"
	[ "$rtt" != none ] || fail "$v: no rtt to the publisher"
	eval "${v}_p50=\$p50 ${v}_rtt=\$rtt"
done
# the imposed delay is a lower bound
ge() { python3 -c "import sys; sys.exit(0 if $1 >= $2 else 1)"; }
ge "$slow_rtt" 0.6 || fail "rtt $slow_rtt s with 300 ms each way"
ge "$slow_p50" 0.3 || fail "delay p50 $slow_p50 s with 300 ms held"
