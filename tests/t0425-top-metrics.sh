#!/bin/sh
# p2pl-top reads a relay's /metrics URL: in batch mode a process row for
# the relay with its peers and rates, and in a terminal (tmux) the same
# row, and its detail view (Enter) with the relay's byte counters as
# /metrics gives them.  A page that is not the text format is reported.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || fail "tmux is not installed"

camera cam
publish cam cam.key
hp=$(free_port)
p2pl-relay -l 127.0.0.1:0 --http "127.0.0.1:$hp" "$URI" >"$T/relay.uri" \
    2>"$T/relay.err" &
RELAY_PID=$!
PIDS="$PIDS $!"
wait_for 10 test -s "$T/relay.uri" || fail "no relay uri: $(cat "$T/relay.err")"
viewer v --relay-only "$(head -n 1 "$T/relay.uri")"
wait_for 15 sh -c "[ \$(wc -c <'$T/v.out') -gt 50000 ]" ||
    fail "viewer got nothing: $(cat "$T/v.err")"
M=http://127.0.0.1:$hp/metrics

p2pl-top -n 1 "$M" >"$T/batch" 2>"$T/batch.err" || fail "p2pl-top: $(cat "$T/batch.err")"
grep -q "^$M: 1 stream, 0 viewers, 0 publishers, 1 relay" "$T/batch" ||
    fail "bad header: $(cat "$T/batch")"
grep -Eq "^relay $RELAY_PID +relay +2 +[0-9.]+ [kM]?b/s +[0-9.]+ [kM]?b/s" "$T/batch" ||
    fail "no relay row with 2 peers and rates: $(cat "$T/batch")"

# a page that is text/plain but not the format: said, not shown
mkdir "$T/www"; printf 'hello {\n' >"$T/www/metrics"
wp=$(free_port)
(cd "$T/www" && exec python3 -m http.server -b 127.0.0.1 "$wp") >"$T/www.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 listening "$wp" || fail "no web server"
p2pl-top -n 1 "http://127.0.0.1:$wp/metrics" >"$T/bad" 2>"$T/bad.err" ||
    fail "p2pl-top gave up on a bad page"
grep -q "metrics: line 1: malformed labels" "$T/bad.err" || fail "bad page unremarked: $(cat "$T/bad.err")"

S=p2pl-top-$$
tmux -f /dev/null -L "$S" new-session -d -s top -x 120 -y 30 \
    "env PS1='$ ' TERM=screen LANG=C.UTF-8 XDG_RUNTIME_DIR='$T/run' PATH='$PATH' sh"
PIDS="$PIDS $(tmux -L "$S" display -p -t top '#{pane_pid}')"
cleanup_tmux() { tmux -L "$S" kill-server 2>/dev/null || true; cleanup; }
trap cleanup_tmux EXIT
pane() { tmux -L "$S" capture-pane -p -t top; }
keys() { tmux -L "$S" send-keys -t top "$@"; }
shows() { pane | grep -Eq -- "$1"; }
keys "p2pl-top $M" Enter
wait_for 10 shows "1 relay" || fail "p2pl-top shows no relay: $(pane)"
wait_for 10 shows "relay $RELAY_PID +relay +2 +[0-9.]+ [kM]?b/s" ||
    fail "no relay row with its peers and rate: $(pane)"
keys Enter
wait_for 5 shows "process relay $RELAY_PID" || fail "no detail view: $(pane)"
pane >"$T/detail"
up=$(sed -n 's/.*up_bytes *\([0-9][0-9]*\).*/\1/p' "$T/detail" | head -n 1)
[ -n "$up" ] && [ "$up" -gt 0 ] || fail "no up_bytes in the detail view: $(cat "$T/detail")"
curl -s "$M" | sed -n 's/^p2pl_bytes_out_total{.*} //p' >"$T/now"
[ "$up" -le "$(cat "$T/now")" ] || fail "up_bytes $up above the relay's $(cat "$T/now")"
grep -q "peers *2" "$T/detail" || fail "no peers in the detail view: $(cat "$T/detail")"
note "p2pl-top on $M: relay row with 2 peers; detail up_bytes $up (relay now $(cat "$T/now"))"
keys q
wait_for 5 sh -c "! tmux -L '$S' capture-pane -p -t top | grep -q '1 relay'" ||
    fail "q did not leave p2pl-top: $(pane)"
stop $VIEWER_PID
true
