#!/bin/sh
# p2pl_tracker against Debian's real opentracker: two peers announcing one
# info_hash see each other, and a hash off the whitelist is refused with
# the tracker's failure reason.
. "$(dirname "$0")/lib.sh"

command -v opentracker >/dev/null || fail "opentracker is not installed"
[ -x "$TOOLS/announce" ] || fail "no $TOOLS/announce: run make"
hash=0123456789abcdef0123456789abcdef01234567
other=fedcba9876543210fedcba9876543210fedcba98

# Debian builds opentracker with a whitelist only.  It chroots to -d (when
# root) or changes to it, then reads -w relative to it as user nobody.
mkdir -m 755 "$T/ot"
echo "$hash" >"$T/ot/whitelist"
chmod 644 "$T/ot/whitelist"
port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# -i before -p: the address applies to the ports after it; no -P, no UDP
opentracker -i 127.0.0.1 -p "$port" -d "$T/ot" -w whitelist \
    >"$T/ot.log" 2>&1 &
ot_pid=$!
PIDS="$PIDS $ot_pid"
url=http://127.0.0.1:$port/announce

# peer A announces until opentracker is up and has read its whitelist
a_first() {
	"$TOOLS/announce" "$url" "$hash" 10001 2 >"$T/a1" 2>"$T/a1.err"
}
wait_for 10 a_first ||
	fail "no announce reply: $(cat "$T/a1.err"); opentracker: $(cat "$T/ot.log")"
kill -0 "$ot_pid" || fail "opentracker died: $(cat "$T/ot.log")"

"$TOOLS/announce" "$url" "$hash" 10002 >"$T/b" 2>"$T/b.err" ||
	fail "peer b: $(cat "$T/b.err")"
grep -qx '127.0.0.1:10001' "$T/b" || fail "b did not see a: $(cat "$T/b")"
"$TOOLS/announce" "$url?key=x" "$hash" 10001 >"$T/a2" 2>"$T/a2.err" ||
	fail "peer a again: $(cat "$T/a2.err")"
grep -qx '127.0.0.1:10002' "$T/a2" || fail "a did not see b: $(cat "$T/a2")"
for f in b a2; do
	[ ! -s "$T/$f.err" ] || fail "$f wrote to stderr: $(cat "$T/$f.err")"
	! grep -qv '^127\.0\.0\.1:1000[12]$' "$T/$f" ||
		fail "$f got a stray peer: $(cat "$T/$f")"
done

if "$TOOLS/announce" "$url" "$other" 10003 >"$T/c" 2>"$T/c.err"; then
	fail "a hash off the whitelist was accepted"
fi
grep -q 'tracker said: Requested download is not authorized' "$T/c.err" ||
	fail "no failure reason: $(cat "$T/c.err")"
[ ! -s "$T/c" ] || fail "peers for a refused hash: $(cat "$T/c")"
kill -0 "$ot_pid" || fail "opentracker died: $(cat "$T/ot.log")"
note "opentracker on port $port: a and b see each other"
