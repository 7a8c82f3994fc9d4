#!/bin/sh
# Bad input gets a clear message and the documented exit status: garbage
# or empty stdin, bad key files, malformed and unreachable URIs, a peer
# speaking another protocol, bad options.
. "$(dirname "$0")/lib.sh"

# expect STATUS PATTERN CMD...: CMD exits STATUS and stderr matches PATTERN
expect() {
	want=$1 pat=$2
	shift 2
	rc=0
	"$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	[ $rc -eq "$want" ] || fail "$* exited $rc, want $want: $(cat "$T/err")"
	grep -q -- "$pat" "$T/err" || fail "$*: stderr lacks '$pat': $(cat "$T/err")"
	if grep -qi "sanitizer\|runtime error" "$T/err"; then
		fail "$*: $(cat "$T/err")"
	fi
}

# publisher input
expect 1 "input is empty" p2pl-publish -k "$T/a.key" -l 127.0.0.1:0
head -c 300000 /dev/urandom >"$T/garbage"
rc=0
p2pl-publish -k "$T/a.key" -l 127.0.0.1:0 <"$T/garbage" >/dev/null \
    2>"$T/err" || rc=$?
[ $rc -eq 1 ] || fail "garbage input exited $rc: $(cat "$T/err")"
grep -q "p2pl-publish: stdin: " "$T/err" || fail "no message for garbage: $(cat "$T/err")"
expect 1 "no such file" p2pl-publish -k "$T/a.key" -l 127.0.0.1:0 "$T/none.ts"
# a camera that never answers: retried as asked, then status 1
expect 1 "connection refused.*giving up after 2 retries" \
    p2pl-publish -k "$T/a.key" -l 127.0.0.1:0 --retry 2 http://127.0.0.1:1/cam
grep -q "retrying in 0.5 s" "$T/err" || fail "no word of the retry: $(cat "$T/err")"
expect 2 "standard input cannot be opened again" p2pl-publish -k "$T/a.key" --retry 1
expect 2 "want 0 to 1000000 or forever" p2pl-publish -k "$T/a.key" --retry -1 x
expect 2 "want 0 to 3600" p2pl-publish -k "$T/a.key" --timeout 1.5 x

# key files
expect 2 "usage:" p2pl-publish -l 127.0.0.1:0
ln -s "$T/a.key" "$T/link.key"
expect 3 "symbolic link" p2pl-publish -k "$T/link.key" -l 127.0.0.1:0
cp "$T/a.key" "$T/open.key"
chmod 644 "$T/open.key"
expect 3 "readable by others" p2pl-publish -k "$T/open.key" -l 127.0.0.1:0
printf 'not a key\n' >"$T/bad.key"
chmod 600 "$T/bad.key"
expect 3 "not a p2pl secret key file" p2pl-publish -k "$T/bad.key" -l 127.0.0.1:0
mkdir "$T/dir.key"
expect 3 "not a regular file\|Is a directory" p2pl-publish -k "$T/dir.key" -l 127.0.0.1:0
# a FIFO is refused at once, not waited on in open() for a writer
mkfifo -m 600 "$T/fifo.key"
expect 3 "not a regular file" timeout 10 p2pl-publish -k "$T/fifo.key" -l 127.0.0.1:0
[ "$(stat -c %a "$T/a.key")" = 600 ] || fail "key not created 0600"
expect 4 "cannot listen" p2pl-publish -k "$T/a.key" -l 192.0.2.1:7000

# options and URIs
expect 2 "bad rate" p2pl-fetch -u fast "p2pl:x"
expect 2 "usage:" p2pl-fetch
expect 2 "not a p2pl uri" p2pl-fetch "http://example.com/"
expect 2 "bad stream key" p2pl-fetch "p2pl:abc?peer=127.0.0.1:1"
uri="p2pl:$(head -c 52 /dev/zero | tr '\0' a)"
expect 2 "names no peer" p2pl-fetch "$uri"
expect 2 "bad address" p2pl-fetch "$uri?peer=nowhere"
expect 2 "bad value" p2pl-fetch "$uri?peer=127.0.0.1:1%0a"
long=$(head -c 5000 /dev/zero | tr '\0' a)
expect 2 "longer than" p2pl-fetch "$uri?x=$long"

# unreachable: retries, then gives up after --timeout with status 3
expect 3 "giving up" p2pl-fetch --timeout 2 "$uri?peer=127.0.0.1:1"
grep -q "127.0.0.1:1: Connection refused; retrying" "$T/err" ||
    fail "no word about the refused connection: $(cat "$T/err")"

# a peer that speaks HTTP, not p2pl
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
end = time.time() + 20
while time.time() < end:
    c, _ = s.accept()
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
' >"$T/http.port" &
PIDS="$PIDS $!"
wait_for 5 test -s "$T/http.port" || fail "no http server"
expect 3 "does not speak p2pl" p2pl-fetch --timeout 2 "$uri?peer=127.0.0.1:$(cat "$T/http.port")"
