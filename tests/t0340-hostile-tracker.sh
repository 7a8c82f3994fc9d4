#!/bin/sh
# Hostile trackers: a fake one (python3 http.server) answers announces
# with garbage, a body that never ends, a redirect to itself, bytes that
# trickle, a valid reply listing 5000 peers where nobody listens, and a
# redirect to https, where the same server (TLS, a self-signed certificate
# made here) answers; a sixth tracker is that https one itself.  Two
# viewers announce to all of them at once (and find the publisher in their
# URI).  https goes through libcurl, loaded only then: its certificate
# check fails, and says so.  They report each tracker's failure, retry with a growing backoff,
# keep decoding with continuity >= 99%, and their memory stays bounded
# (replies are cut at 256 KiB).
. "$(dirname "$0")/lib.sh"

tport=$(free_port)
cat >"$T/tracker.py" <<'PY'
import http.server, socketserver, ssl, struct, sys, threading, time

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        path = self.path.split('?')[0]
        with open(sys.argv[2], 'a') as f:
            f.write(path + '\n')
        try:
            self.reply(path)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def reply(self, path):
        if path == '/tohttps':
            self.send_response(302)
            self.send_header('Location',
                'https://127.0.0.1:%s/tls' % sys.argv[3])
            self.end_headers()
            return
        if path == '/loop':
            self.send_response(302)
            self.send_header('Location', '/loop?again=1')
            self.end_headers()
            return
        self.send_response(200)
        self.end_headers()
        if path == '/bad':
            self.wfile.write(b'd8:intervali1e5:peersi-3ee' + b'l' * 5000)
        elif path == '/huge':
            chunk = b'd5:peers' + b'9' * 65536
            for _ in range(20000):
                self.wfile.write(chunk)
        elif path == '/slow':
            for _ in range(60):
                self.wfile.write(b'd')
                self.wfile.flush()
                time.sleep(1)
        elif path == '/many':
            peers = b''.join(bytes([127, 0, 1, i % 250 + 1]) +
                struct.pack('>H', 40000 + i) for i in range(5000))
            self.wfile.write(b'd8:intervali5e5:peers%d:' % len(peers) +
                peers + b'e')

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

tls = S(('127.0.0.1', int(sys.argv[3])), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[4], sys.argv[5])
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
threading.Thread(target=tls.serve_forever, daemon=True).start()
S(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
PY
sport=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" \
    -out "$T/tls.crt" -days 1 -subj /CN=localhost 2>"$T/openssl.err" ||
    fail "openssl cannot make a certificate: $(cat "$T/openssl.err")"
: >"$T/tracker.log"
python3 "$T/tracker.py" "$tport" "$T/tracker.log" "$sport" "$T/tls.crt" \
    "$T/tls.key" 2>"$T/tracker.err" &
PIDS="$PIDS $!"
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $tport))" ||
    fail "fake tracker did not start: $(cat "$T/tracker.err")"
camera cam
publish cam cam.key
tr=
for p in bad huge loop slow many tohttps; do
	tr="$tr&tr=http%3A%2F%2F127.0.0.1%3A$tport%2F$p"
done
tr="$tr&tr=https%3A%2F%2F127.0.0.1%3A$sport%2Fdirect"
viewer v1 "$URI$tr"
p1=$VIEWER_PID
viewer v2 "$URI$tr"
p2=$VIEWER_PID
sleep 20

for p in $p1 $p2; do
	note "viewer pid $p: VmHWM $(hwm $p) KiB"
	[ -n "${P2PL_SANITIZED:-}" ] || [ "$(hwm $p)" -lt 65536 ] ||
	    fail "viewer uses $(hwm $p) KiB"
done
stop $p1
stop $p2
for p in bad huge loop many; do
	n=$(grep -c "^/$p\$" "$T/tracker.log" || true)
	note "/$p: $n requests from 2 viewers in 20 s"
	[ "$n" -ge 2 ] || fail "/$p asked $n times"
	# backoff from 1 s doubling: at most ~5 tries a viewer, plus redirects
	[ "$n" -le 40 ] || fail "/$p hammered: $n requests"
done
for v in v1 v2; do
	decodes "$T/$v.out"
	c=$(continuity "$T/$v.stats")
	note "$v: continuity $c/10000"
	[ "$c" -ge 9900 ] || fail "$v: continuity $c/10000"
	grep -q "/huge.*reply over" "$T/$v.err" ||
	    fail "$v: no word of the huge reply: $(cat "$T/$v.err")"
	grep -q "/loop.*redirect" "$T/$v.err" ||
	    fail "$v: no word of the redirect loop: $(cat "$T/$v.err")"
	grep -q "/bad:" "$T/$v.err" ||
	    fail "$v: no word of the bad reply: $(cat "$T/$v.err")"
	grep -q "/tohttps.*certificate" "$T/$v.err" ||
	    fail "$v: https after a redirect not checked: $(cat "$T/$v.err")"
	note "$v: $(grep -m1 "$sport/direct" "$T/$v.err")"
	grep -q "$sport/direct.*certificate" "$T/$v.err" ||
	    fail "$v: the https tracker not checked: $(cat "$T/$v.err")"
done
