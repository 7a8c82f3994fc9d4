#!/bin/sh
# lib/dht against DHT nodes we did not write: three libtorrent nodes
# (python3-libtorrent, tests/tools/lt-dht.py) on loopback.  (a) libtorrent
# announces an info-hash and dht-probe finds that peer by get_peers;
# (b) dht-probe announces a port and libtorrent's get_peers finds it;
# (c) a hash nobody announced finds nothing; (d) and (e) are (a) and (b)
# over IPv6 (BEP 32): three more libtorrent nodes on ::1.
. "$(dirname "$0")/lib.sh"

[ -x "$TOOLS/dht-probe" ] || fail "no $TOOLS/dht-probe: run make"
lt=$(dirname "$0")/tools/lt-dht.py
py=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import libtorrent' 2>/dev/null; then
		py=$p
		break
	fi
done
[ -n "$py" ] || fail "python3-libtorrent is not installed"

h1=0123456789abcdef0123456789abcdef01234567	# libtorrent announces
h2=00112233445566778899aabbccddeeff00112233	# dht-probe announces
h3=fedcba9876543210fedcba9876543210fedcba98	# nobody does
h4=44444444444444444444444444444444444444aa	# dht-probe, over IPv6
free_udp() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
pa=$(free_udp)
pb=$(free_udp)
pc=$(free_udp)
ann=$(free_port)

mkdir "$T/lt"
lt_node() {
	name=$1 port=$2
	shift 2
	"$py" "$lt" -d "$T/lt" -p "$port" "$@" >"$T/$name.out" \
	    2>"$T/$name.err" &
	PIDS="$PIDS $!"
	LT_PIDS="$LT_PIDS $!"
}
LT_PIDS=
lt_node a "$pa" -b "127.0.0.1:$pb" -b "127.0.0.1:$pc" -a "$h1" -s "$h2"
lt_node b "$pb" -b "127.0.0.1:$pa" -b "127.0.0.1:$pc"
lt_node c "$pc" -b "127.0.0.1:$pa" -b "127.0.0.1:$pb"
for n in a b c; do
	wait_for 20 grep -q '^ready' "$T/$n.out" ||
	    fail "libtorrent node $n did not start: $(cat "$T/$n.err")"
done

# (a) libtorrent's announce, found by our get_peers (it announces its own
# port); -w repeats the lookup until libtorrent has announced
"$TOOLS/dht-probe" -w -t 60 -b "127.0.0.1:$pb" "$h1" >"$T/p1" \
    2>"$T/p1.err" || fail "dht-probe found no peer for $h1: $(cat "$T/p1.err")"
grep -qx "127.0.0.1:$pa" "$T/p1" ||
	fail "dht-probe did not find libtorrent's peer: $(cat "$T/p1")"
! grep -vqx "127.0.0.1:$pa" "$T/p1" || fail "stray peers: $(cat "$T/p1")"
note "(a) $(tail -n 1 "$T/p1.err")"

# (b) our announce, found by libtorrent's get_peers (node a looks h2 up
# every 3 s)
"$TOOLS/dht-probe" -a "$ann" -t 60 -b "127.0.0.1:$pc" "$h2" >"$T/p2" \
    2>"$T/p2.err" || fail "dht-probe could not announce: $(cat "$T/p2.err")"
note "(b) $(tail -n 1 "$T/p2.err")"
wait_for 60 grep -q "^$h2 " "$T/a.out" ||
	fail "libtorrent did not find our announce: $(cat "$T/a.out")"
grep -qx "$h2 127.0.0.1:$ann" "$T/a.out" ||
	fail "libtorrent found the wrong peer: $(grep "^$h2" "$T/a.out")"

# (c) a hash nobody announced: the lookup ends with nothing, status 1
rc=0
"$TOOLS/dht-probe" -t 30 -b "127.0.0.1:$pa" "$h3" >"$T/p3" 2>"$T/p3.err" ||
	rc=$?
[ "$rc" -eq 1 ] || fail "dht-probe exited $rc for $h3: $(cat "$T/p3.err")"
[ ! -s "$T/p3" ] || fail "peers for a hash nobody announced: $(cat "$T/p3")"
# (d) and (e): over IPv6
qa=$(free_udp)
qb=$(free_udp)
qc=$(free_udp)
lt_node a6 "$qa" -i ::1 -b "[::1]:$qb" -b "[::1]:$qc" -a "$h1" -s "$h4"
lt_node b6 "$qb" -i ::1 -b "[::1]:$qa" -b "[::1]:$qc"
lt_node c6 "$qc" -i ::1 -b "[::1]:$qa" -b "[::1]:$qb"
for n in a6 b6 c6; do
	wait_for 20 grep -q '^ready' "$T/$n.out" ||
	    fail "libtorrent node $n did not start: $(cat "$T/$n.err")"
done
"$TOOLS/dht-probe" -l '[::1]:0' -w -t 60 -b "[::1]:$qb" "$h1" >"$T/p4" \
    2>"$T/p4.err" || fail "no IPv6 peer for $h1: $(cat "$T/p4.err")"
grep -qx "\[::1\]:$qa" "$T/p4" ||
	fail "dht-probe did not find libtorrent's IPv6 peer: $(cat "$T/p4")"
note "(d) $(tail -n 1 "$T/p4.err")"
"$TOOLS/dht-probe" -l '[::1]:0' -a "$ann" -t 60 -b "[::1]:$qc" "$h4" \
    >"$T/p5" 2>"$T/p5.err" ||
	fail "dht-probe could not announce over IPv6: $(cat "$T/p5.err")"
note "(e) $(tail -n 1 "$T/p5.err")"
wait_for 60 grep -q "^$h4 " "$T/a6.out" ||
	fail "libtorrent did not find our IPv6 announce: $(cat "$T/a6.out")"
grep -qx "$h4 ::1:$ann" "$T/a6.out" ||
	fail "libtorrent found the wrong IPv6 peer: $(grep "^$h4" "$T/a6.out")"

for f in p1 p2 p3 p4 p5; do
	grep -q 'malformed 0 unexpected 0 errors 0' "$T/$f.err" ||
	    fail "$f: bad replies from libtorrent: $(cat "$T/$f.err")"
done
for p in $LT_PIDS; do
	kill -0 "$p" || fail "a libtorrent node died: $(cat "$T"/[abc]*.err)"
done
note "libtorrent on $pa $pb $pc and $qa $qb $qc: both ways, IPv4 and IPv6"
