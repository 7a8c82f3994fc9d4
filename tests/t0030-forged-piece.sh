#!/bin/sh
# A peer that passes on a piece with one flipped byte is disconnected, and
# no byte of that piece reaches stdout: the viewer, which knew only the
# hostile peer, finds the honest swarm through the peer exchange it relayed
# and takes the genuine piece there; its output is a stretch of a clean
# viewer's output.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
port=${URI##*:}
viewer clean "$URI"
clean_pid=$VIEWER_PID
sleep 1
# a hostile peer in front of the publisher forges the 20th piece
mport=$((20000 + $$ % 20000))
"$TOOLS/mitm" "$(key_of "$URI")" $mport 127.0.0.1 "$port" 20 "$T/forged" >"$T/mitm.out" \
    2>"$T/mitm.err" &
PIDS="$PIDS $!"
wait_for 5 grep -q listening "$T/mitm.out" || fail "mitm did not start"
# the viewer's uri names only the hostile peer
key=${URI%%\?*}
viewer attacked "$key?peer=127.0.0.1:$mport"
attacked_pid=$VIEWER_PID
wait_for 20 test -s "$T/forged" || fail "mitm forged nothing: $(cat "$T/mitm.err")"
sleep 3
stop $attacked_pid
sleep 1
stop $clean_pid
cat "$T/mitm.err" >&2
grep -q "bad signature on piece" "$T/attacked.err" ||
    fail "viewer did not report the forged piece: $(cat "$T/attacked.err")"
[ "$(last_stat "$T/attacked.stats" bad)" -ge 1 ] || fail "no bad piece counted"
decodes "$T/attacked.out"
python3 - "$T/forged" "$T/attacked.out" "$T/clean.out" <<'PY'
import sys
forged, out, clean = (open(f, 'rb').read() for f in sys.argv[1:4])
if forged in out:
    sys.exit("FAIL: the forged piece reached stdout")
if out not in clean:
    sys.exit("FAIL: the attacked viewer's output is not a stretch of the clean one")
print("# attacked viewer: %d bytes, all genuine" % len(out), file=sys.stderr)
PY
