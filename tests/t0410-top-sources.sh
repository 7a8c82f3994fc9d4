#!/bin/sh
# p2pl-top's other sources, in batch mode: one process by pid or by its
# socket (its neighbours), a relay's stats over HTTP, and stats lines on standard
# input, where a hostile line is reported and the rest still shown; a pid
# with no control socket is refused.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
hp=$(free_port)
p2pl-relay -l 127.0.0.1:0 --http "127.0.0.1:$hp" "$URI" >"$T/relay.out" \
    2>"$T/relay.err" &
PIDS="$PIDS $!"
viewer v1 "$URI"
v1=$VIEWER_PID
viewer v2 "$URI"
sleep 4

# one viewer by pid: a row per neighbour, the publisher among them
p2pl-top -n 1 "$v1" >"$T/pid.top" 2>"$T/pid.err" || fail "p2pl-top PID: $(cat "$T/pid.err")"
head -n 1 "$T/pid.top" | grep -q "^process $v1: 1 stream, 1 viewer" ||
    fail "bad header for a pid: $(cat "$T/pid.top")"
grep -q "^PEER " "$T/pid.top" || fail "no neighbour table: $(cat "$T/pid.top")"
grep -Eq "^127\.0\.0\.1:[0-9]+ +out +publisher" "$T/pid.top" ||
    fail "the publisher is not among v1's neighbours: $(cat "$T/pid.top")"
n=$(grep -c "^127\.0\.0\.1:" "$T/pid.top")
[ "$n" -ge 2 ] || fail "v1 shows $n neighbours"
# the same process by its socket's path
sock="$T/run/p2pl/p2pl-fetch.$v1.sock"
p2pl-top -n 1 "$sock" >"$T/sock.top" 2>"$T/sock.err" || fail "p2pl-top SOCKET: $(cat "$T/sock.err")"
grep -q "^$sock: 1 stream, 1 viewer" "$T/sock.top" || fail "bad header for a socket: $(cat "$T/sock.top")"

# the relay over http
p2pl-top -n 1 "http://127.0.0.1:$hp/stats" >"$T/http.top" 2>"$T/http.err" ||
    fail "p2pl-top URL: $(cat "$T/http.err")"
grep -q "1 relay" "$T/http.top" || fail "no relay over http: $(cat "$T/http.top")"
grep -Eq "^127\.0\.0\.1:[0-9]+ +(in|out) +(viewer|publisher)" "$T/http.top" ||
    fail "no relay neighbours over http: $(cat "$T/http.top")"
p2pl-top -n 1 "http://127.0.0.1:$hp/nothing" >"$T/404.top" 2>"$T/404.err" ||
    fail "p2pl-top gave up on a bad page"
grep -q "HTTP status" "$T/404.err" || fail "no word of the bad page: $(cat "$T/404.err")"

# stats lines on stdin, one of them hostile
{ tail -n 2 "$T/v1.stats"; printf '{"prog":"p2pl-fetch","pid":"\033[2J"\n'
  tail -n 1 "$T/v2.stats"; } >"$T/lines"
p2pl-top -n 1 - <"$T/lines" >"$T/stdin.top" 2>"$T/stdin.err" ||
    fail "p2pl-top -: $(cat "$T/stdin.err")"
grep -q "^standard input: 1 stream, 2 viewers" "$T/stdin.top" ||
    fail "bad header from stdin: $(cat "$T/stdin.top")"
[ "$(grep -c "^fetch " "$T/stdin.top")" -eq 2 ] || fail "want 2 viewers: $(cat "$T/stdin.top")"
grep -q "stdin: stats line" "$T/stdin.err" || fail "the bad line went unremarked"
if grep -q "$(printf '\033')" "$T/stdin.top" "$T/stdin.err"; then
	fail "an escape sequence from the input reached the output"
fi

rc=0
p2pl-top -n 1 999999999 >/dev/null 2>"$T/nopid.err" || rc=$?
[ $rc -eq 1 ] || fail "a pid without a socket: exit $rc, want 1"
grep -q "no p2pl process 999999999" "$T/nopid.err" || fail "$(cat "$T/nopid.err")"
note "p2pl-top read a pid, a relay over http and stdin, and refused a bad pid and line"
