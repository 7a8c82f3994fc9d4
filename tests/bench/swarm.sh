#!/bin/sh
# tests/bench/swarm.sh N [SECONDS] - a real swarm on loopback: an ffmpeg
# test stream at 1 Mbit/s (1 s GOP) into p2pl-publish -u 2x and N
# p2pl-fetch viewers at -u 1.5x, for SECONDS (default 40) after the last
# one joined.  Reports delay p50/p99 at the viewers (over each viewer's
# whole run), skipped pieces, the publisher's upload over the stream's
# bytes (from its stats and from /proc/PID/io), and the spread of upload
# across viewers.  Figures, not a test: nothing here passes or fails.
set -eu
cd "$(dirname "$0")/../.."
BIN=${P2PL_BIN:-$PWD/build/bin}
N=${1:-10}
DUR=${2:-40}
D=$(mktemp -d "${TMPDIR:-/tmp}/p2pl-bench.XXXXXX")
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null || true; done; sleep 0.3; rm -rf "$D"' EXIT

mkfifo "$D/feed"
ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=size=640x360:rate=25 \
    -f lavfi -i sine -c:v libx264 -preset ultrafast -tune zerolatency \
    -g 25 -b:v 900k -maxrate 900k -bufsize 900k -c:a aac -b:a 64k \
    -f mpegts -y "$D/feed" 2>/dev/null &
PIDS="$PIDS $!"
"$BIN/p2pl-publish" -k "$D/cam.key" -l 127.0.0.1:0 -u 2x \
    --stats "$D/pub.stats" <"$D/feed" >"$D/uri" 2>"$D/pub.err" &
PUB=$!
PIDS="$PIDS $PUB"
while [ ! -s "$D/uri" ]; do sleep 0.1; done
URI=$(head -n 1 "$D/uri")
i=1
while [ "$i" -le "$N" ]; do
	"$BIN/p2pl-fetch" -u 1.5x --stats "$D/v$i.stats" "$URI" >/dev/null \
	    2>"$D/v$i.err" &
	PIDS="$PIDS $!"
	sleep 0.05
	i=$((i + 1))
done
w0=$(sed -n 's/^wchar: //p' /proc/$PUB/io)
sleep "$DUR"
w1=$(sed -n 's/^wchar: //p' /proc/$PUB/io)
python3 - "$D" "$N" "$DUR" "$w0" "$w1" <<'PY'
import json, statistics, sys
d, n, dur, w0, w1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def last(f):
    with open(f) as fh:
        return json.loads(fh.readlines()[-1])
pub = [json.loads(l) for l in open(d + "/pub.stats")]
v = [last("%s/v%d.stats" % (d, i)) for i in range(1, n + 1)]
ratio_in = pub[-1]["up_bytes"] / pub[-1]["bytes"]
# the stream's bytes over the measured window, from the publisher's stats
span = [p for p in pub if p["time"] >= pub[-1]["time"] - dur]
made = span[-1]["bytes"] - span[0]["bytes"]
p50 = sorted(x["delay_p50_all"] or 0 for x in v)
p99 = sorted(x["delay_p99_all"] or 0 for x in v)
ups = sorted(x["up_bytes"] / max(1, x["bytes"]) for x in v)
print("N=%d viewers, %d s, stream %.0f kbit/s" % (n, dur, pub[-1]["bitrate"] / 1e3))
print("delay p50 (median viewer) %.3f s; p99 median viewer %.3f s, worst viewer %.3f s"
      % (statistics.median(p50), statistics.median(p99), p99[-1]))
print("skipped pieces: %d in all; viewers that skipped: %d" %
      (sum(x["skipped"] for x in v), sum(1 for x in v if x["skipped"])))
print("publisher upload / stream bytes: %.2f (its stats, whole run); %.2f (/proc wchar, last %d s)"
      % (ratio_in, (w1 - w0) / max(1, made), dur))
print("viewer upload / bytes played: min %.2f median %.2f max %.2f" %
      (ups[0], statistics.median(ups), ups[-1]))
print("duplicates per viewer: median %d; peers per viewer: median %d" %
      (statistics.median(x["dups"] for x in v), statistics.median(x["peers"] for x in v)))
PY
