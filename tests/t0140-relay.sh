#!/bin/sh
# p2pl-relay fed a signed frame stream over a pipe (p2pl-publish -o - |
# p2pl-relay -i -) serves 10 viewers; a viewer whose URI names only the
# relay's own BitTorrent tracker finds the swarm through it; the relay's
# stats are served as JSON over HTTP.
. "$(dirname "$0")/lib.sh"
N=${N:-10}

camera cam
p2pl-publish -k "$T/cam.key" -o - <"$T/cam.ts" 2>"$T/pub.err" |
    p2pl-relay -i - -l 127.0.0.1:0 --http 127.0.0.1:0 --tracker \
    --stats "$T/relay.stats" >"$T/relay.uri" 2>"$T/relay.err" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/relay.uri" || fail "no uri from the relay: $(cat "$T/relay.err" "$T/pub.err")"
URI=$(head -n 1 "$T/relay.uri")
case $URI in p2pl:*'?peer=127.0.0.1:'*'&tr=http%3A%2F%2F127.0.0.1%3A'*) ;;
*) fail "relay uri lacks its address or tracker: $URI" ;; esac
i=1
while [ $i -le $N ]; do
	viewer v$i "$URI"
	eval "v${i}_pid=\$VIEWER_PID"
	i=$((i + 1))
done
# a viewer that knows only the relay's tracker
trurl=$(echo "$URI" | sed 's/.*&tr=//')
viewer tv "${URI%%\?*}?tr=$trurl"
tv_pid=$VIEWER_PID
sleep 8
http=$(echo "$trurl" | sed 's/%3A/:/g; s|%2F|/|g; s|/announce$||')
curl -sf "$http/stats" >"$T/stats.json" || fail "no stats over http"
python3 - "$T/stats.json" "$URI" <<'PY' || fail "bad stats over http: $(cat "$T/stats.json")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
key = sys.argv[2][5:57]
s = [l for l in lines if l["stream"] == key]
assert s and s[0]["prog"] == "p2pl-relay" and s[0]["peers"] >= 10, lines
assert s[0]["up_bytes"] > 0 and s[0]["bitrate"] > 0, lines
PY
i=1
while [ $i -le $N ]; do
	eval "stop \$v${i}_pid"
	decodes "$T/v$i.out"
	[ "$(last_stat "$T/v$i.stats" skipped)" -eq 0 ] || fail "v$i skipped pieces"
	i=$((i + 1))
done
stop $tv_pid
decodes "$T/tv.out"
note "relay served $N viewers from a pipe; $(last_stat "$T/relay.stats" up_bytes) bytes up"
