#!/bin/sh
# Peer connections are encrypted and authenticated.  A viewer reaches the
# publisher through a tap that records every byte both ways: the viewer
# decodes, and the record holds neither the stream's key (raw or base32),
# nor the HELLO's magic, nor any stretch of the media the viewer wrote.
# A byte flipped in transit ends the connection, and a peer that does not
# know the stream's key cannot talk to the publisher.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
port=${URI##*:}
key=$(key_of "$URI")

# tap LISTEN_PORT FLIP_AT: relay one connection to the publisher, record
# it to $T/tap.LISTEN_PORT; with FLIP_AT > 0, flip the byte at that offset
# of the publisher's side
tap() {
	python3 - "$1" "$port" "$T/tap.$1" "$2" <<'PY' &
import select, socket, sys
lp, up, rec, flip = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lp)); ls.listen(1)
open(rec + ".ready", "w").close()
d, _ = ls.accept(); u = socket.create_connection(("127.0.0.1", up))
out, seen = open(rec, "wb"), 0
while True:
    r, _, _ = select.select([d, u], [], [])
    for s in r:
        try:
            b = s.recv(65536)
        except OSError:
            sys.exit(0)
        if not b:
            sys.exit(0)
        if s is u and flip and seen <= flip < seen + len(b):
            b = bytearray(b); b[flip - seen] ^= 1; b = bytes(b)
        if s is u:
            seen += len(b)
        out.write(b); out.flush()
        try:
            (u if s is d else d).sendall(b)
        except OSError:
            sys.exit(0)
PY
	PIDS="$PIDS $!"
	wait_for 5 test -e "$T/tap.$1.ready" || fail "tap did not start"
}

p1=$(free_port)
tap "$p1" 0
viewer v "p2pl:$key?peer=127.0.0.1:$p1"
sleep 5
stop $VIEWER_PID
decodes "$T/v.out"
python3 - "$T/tap.$p1" "$T/v.out" "$key" <<'PY' || fail "the tap saw something in clear"
import base64, sys
rec, out, key = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read(), sys.argv[3]
raw = base64.b32decode(key.upper() + "=" * (-len(key) % 8))
assert len(rec) > 100000, len(rec)
assert raw not in rec, "raw key"
assert key.encode() not in rec and key.upper().encode() not in rec, "base32 key"
assert b"P2PL" not in rec, "hello magic"
# no 32-byte stretch of the media the viewer played, anywhere
for i in range(0, len(out) - 32, 997):
    assert out[i:i + 32] not in rec, "media at %d" % i
print("# tap: %d bytes recorded, no key, no hello, no media in clear" % len(rec), file=sys.stderr)
PY

# a byte flipped in transit: the viewer drops that connection
p2=$(free_port)
tap "$p2" 5000
viewer v2 --timeout 8 "p2pl:$key?peer=127.0.0.1:$p2"
wait_for 10 grep -q "failed to open\|does not speak" "$T/v2.err" ||
    fail "a changed frame went unnoticed: $(cat "$T/v2.err")"

# a peer with another stream's key gets nothing from this publisher
p2pl-publish -k "$T/other.key" -o "$T/probe" /dev/null >"$T/other.uri" 2>/dev/null || true
other=$(key_of "$(head -n 1 "$T/other.uri")")
[ -n "$other" ] && [ "$other" != "$key" ] || fail "no second key"
viewer v3 --timeout 4 "p2pl:$other?peer=127.0.0.1:$port"
rc=0
wait $VIEWER_PID || rc=$?
[ $rc -eq 3 ] || fail "a viewer of another stream: exit $rc, want 3 (no data)"
[ ! -s "$T/v3.out" ] || fail "a viewer of another stream got bytes"
grep -q "failed to open\|connection closed" "$T/v3.err" ||
    fail "v3 says nothing: $(cat "$T/v3.err")"
note "flipped byte: connection dropped; another stream's key: nothing served"
