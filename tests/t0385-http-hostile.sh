#!/bin/sh
# p2pl-fetch --http against hostile clients: unknown paths 404, other
# methods 405, a malformed request 400, an oversized head 431, HTTP/2.0
# 505; two requests on one connection are both answered; a HEAD has no
# body; no more than 64 connections (the 65th is answered 503), idle ones
# are closed (10 s without a request); and the stream goes on meanwhile.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
hp=$(free_port)
viewer v --http 127.0.0.1:$hp "$URI"
V=$VIEWER_PID
wait_for 15 listening $hp || fail "no http listener: $(cat "$T/v.err")"

python3 - "$hp" <<'PY' || fail "requests answered wrongly"
import socket, sys
port = int(sys.argv[1])
def ask(data, rcv=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    out = b""
    while True:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        out += b
    s.close()
    return out
def expect(data, status, what):
    r = ask(data)
    first = r.split(b"\r\n", 1)[0]
    if not first.startswith(b"HTTP/1.1 %d " % status):
        sys.exit("%s: %r" % (what, r[:200]))
    return r
expect(b"GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n", 404, "unknown path")
expect(b"GET /seg-x.ts HTTP/1.0\r\n\r\n", 404, "bad segment name")
expect(b"GET /seg-99999999999999999999999.ts HTTP/1.0\r\n\r\n", 404, "huge segment number")
r = expect(b"POST /stream.ts HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 405, "POST")
if b"Allow: GET, HEAD" not in r: sys.exit("405 without Allow")
expect(b"DELETE / HTTP/1.0\r\n\r\n", 405, "DELETE")
expect(b"\x16\x03\x01\x02\x00garbage\r\n\r\n", 400, "garbage")
expect(b"GET /\x01 HTTP/1.1\r\n\r\n", 400, "control character")
expect(b"GET / HTTP/1.1\r\nX: y\r\n folded\r\n\r\n", 400, "folded header")
expect(b"GET / HTTP/2.0\r\n\r\n", 505, "HTTP/2.0")
expect(b"GET /" + b"a" * 300 + b" HTTP/1.1\r\n\r\n", 414, "long target")
expect(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431, "big head")
expect(b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 100 + b"\r\n", 431, "many headers")
# HEAD: the head only
r = expect(b"HEAD /stream.ts HTTP/1.1\r\n\r\n", 200, "HEAD")
if not r.endswith(b"\r\n\r\n") or b"video/mp2t" not in r: sys.exit("HEAD: %r" % r)
# two requests on one connection, sent at once: two answers
r = ask(b"GET /nope HTTP/1.1\r\n\r\nGET /nope2 HTTP/1.1\r\nConnection: close\r\n\r\n")
if r.count(b"HTTP/1.1 404 ") != 2: sys.exit("pipelined: %r" % r)
PY
note "404, 405, 400, 505, 414, 431, HEAD and two requests on one connection"

# 64 idle connections: the 65th is refused, they are closed within 10 s,
# and a client after that is served
python3 - "$hp" <<'PY' || fail "connection limit"
import socket, sys, time
port = int(sys.argv[1])
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
time.sleep(0.5)
s = socket.create_connection(("127.0.0.1", port), timeout=5)
r = s.recv(4096)
if not r.startswith(b"HTTP/1.1 503 "): sys.exit("65th connection: %r" % r)
# each of the 64, never asking, is closed by the server
for c in conns:
    c.settimeout(30)
    if c.recv(10) != b"": sys.exit("an idle connection got data")
PY
note "the 65th connection got 503; 64 idle ones were closed"
refused=$(stat_num "$T/v.stats" http_refused)
[ "$refused" -ge 1 ] || fail "http_refused $refused"
grep -q 'more than 64 connections' "$T/v.err" || fail "no line for the refusal"
rc=0
timeout 60 ffmpeg -nostdin -v error -i "http://127.0.0.1:$hp/stream.ts" \
    -map 0:v -frames:v 25 -f null - 2>"$T/ff.err" || rc=$?
[ $rc -eq 0 ] && [ ! -s "$T/ff.err" ] || fail "afterwards: $rc $(cat "$T/ff.err")"
stop $V
decodes "$T/v.out"
grep -v 'more than 64 connections' "$T/v.err" >"$T/v.err2" || true
[ ! -s "$T/v.err2" ] || fail "v wrote to stderr: $(cat "$T/v.err2")"
