#!/bin/sh
# p2pl-relay -i - whose frame stream has a piece with a flipped payload
# byte every 40 pieces (as a broken link or a compromised hop would give
# it): each bad piece is dropped with a message, the relay keeps reading
# and serving, and its two viewers keep playing and decoding what follows.
. "$(dirname "$0")/lib.sh"

camera cam
p2pl-publish -k "$T/cam.key" -o - <"$T/cam.ts" 2>"$T/pub.err" |
    python3 -u -c '
import sys
inp, out, n = sys.stdin.buffer, sys.stdout.buffer, 0
buf = b""
while True:
    d = inp.read1(65536)
    if not d:
        break
    buf += d
    while len(buf) >= 5:
        size = 4 + int.from_bytes(buf[:4], "big")
        if len(buf) < size:
            break
        m, buf = bytearray(buf[:size]), buf[size:]
        if m[4] == 3:
            n += 1
            if n % 40 == 0:
                m[-1] ^= 0x01    # the last payload byte
        out.write(m)
        out.flush()
' 2>"$T/filter.err" |
    p2pl-relay -i - -l 127.0.0.1:0 --stats "$T/relay.stats" \
    >"$T/relay.uri" 2>"$T/relay.err" &
RELAY_PID=$!
PIDS="$PIDS $!"
wait_for 10 test -s "$T/relay.uri" || fail "no uri from the relay: $(cat "$T/relay.err" "$T/pub.err")"
URI=$(head -n 1 "$T/relay.uri")
viewer v1 "$URI"
v1=$VIEWER_PID
viewer v2 "$URI"
v2=$VIEWER_PID
sleep 12
kill -0 $RELAY_PID 2>/dev/null || fail "the relay exited: $(cat "$T/relay.err")"
bad=$(stat_num "$T/relay.stats" input_bad)
note "relay: $bad bad pieces dropped, $(stat_num "$T/relay.stats" pieces) stored"
[ "$bad" -ge 2 ] || fail "the relay dropped $bad bad pieces: $(cat "$T/relay.err" "$T/filter.err")"
grep -q "stdin: .*piece dropped" "$T/relay.err" ||
    fail "the relay did not say it dropped a piece: $(cat "$T/relay.err")"
p1=$(stat_num "$T/v1.stats" pieces)
sleep 3
[ "$(stat_num "$T/v1.stats" pieces)" -gt "$p1" ] ||
    fail "v1 stopped playing: $(cat "$T/v1.err")"
stop $v1
stop $v2
for v in v1 v2; do
	decodes "$T/$v.out"
	note "$v: $(last_stat "$T/$v.stats" pieces) pieces, $(last_stat "$T/$v.stats" skipped) skipped"
	[ "$(last_stat "$T/$v.stats" pieces)" -ge 100 ] ||
	    fail "$v played $(last_stat "$T/$v.stats" pieces) pieces"
done
