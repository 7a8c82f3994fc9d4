#!/bin/sh
# tests/bench/real.sh - a real swarm on loopback, measured: an ffmpeg test
# stream (H.264 + AAC, -r kbit/s, a keyframe every -g seconds) into
# p2pl-publish, Debian's opentracker as the tracker named in the URI, and
# N p2pl-fetch viewers started 20 ms apart, each with an upload cap (-u,
# and -s FRAC:CAP for a share of slower ones; the publisher's is -P,
# 1.5x by default), optionally killed and
# restarted (-c K:S: K random viewers every S seconds), for -t seconds
# after the last one started.  -R K starts K p2pl-relay (uncapped) after
# the publisher; they announce themselves to the tracker.  -D MS: every process holds what it sends
# on each connection MS milliseconds (P2PL_NET_DELAY, p2pl(7)), a one-way
# delay on every link.  With -b the baseline, every viewer fed by the
# publisher directly: viewers --relay-only -u 0 (they dial only the
# publisher, upload nothing, do not listen) and the publisher uncapped;
# it takes at most 2048 connections (--max-peers), so beyond that some
# cannot be fed (said on stderr and in "baseline_unserved").
#
# Writes one JSON object to -o FILE (and stdout): delay p50/p95/p99/max
# over every piece played at every viewer, from the delay_hist and
# delay_max of each viewer's last stats line (p50/p95/p99 are the upper
# bounds of 5% wide bins), and each viewer's own p50/p99 over its run (the
# median viewer's and the worst), startup p50/p99, continuity (pieces
# written / (written + skipped)), publisher upload / stream bytes (its
# count and /proc wchar), viewers' upload / bytes received (min, p10,
# median, p90, max), CPU % of a core and peak RSS (VmHWM) of every viewer
# (median, max) and of the publisher, the round-trip times (p10/p50/p90)
# the viewers measured to their neighbours, and each viewer's anonymous resident
# memory (RssAnon) and proportional share (Pss, shared library pages
# divided among the processes mapping them), read from /proc before they
# stop.  Figures, not a test: nothing fails.
set -eu
cd "$(dirname "$0")/../.."
BIN=${P2PL_BIN:-$PWD/build/bin}
N=10 DUR=30 KBPS=900 GOP=1 CAP=1.5x PUBCAP=1.5x SLOW= CHURN= BASE=0 OUT= DELAY=0
RELAYS=0
PUB_MAX_PEERS=2048	# a publisher's connections (P2PL_NET_SERVER_PEERS)
usage() {
	echo "usage: real.sh [-b] [-c K:S] [-D MS] [-g GOP] [-n N] [-o FILE] [-P CAP] [-R K] [-r KBITS] [-s FRAC:CAP] [-t SECONDS] [-u CAP]" >&2
	exit 2
}
while getopts bc:D:g:hn:o:P:R:r:s:t:u: opt; do
	case $opt in
	b) BASE=1 ;;
	c) CHURN=$OPTARG ;;
	D) DELAY=$OPTARG ;;
	g) GOP=$OPTARG ;;
	n) N=$OPTARG ;;
	o) OUT=$OPTARG ;;
	P) PUBCAP=$OPTARG ;;
	R) RELAYS=$OPTARG ;;
	r) KBPS=$OPTARG ;;
	s) SLOW=$OPTARG ;;
	t) DUR=$OPTARG ;;
	u) CAP=$OPTARG ;;
	*) usage ;;
	esac
done
[ $OPTIND -gt $# ] || usage
case $DELAY in
''|*[!0-9]*) echo "real.sh: -D: want milliseconds, 0 to 10000" >&2; exit 2 ;;
esac
[ "$DELAY" -le 10000 ] || { echo "real.sh: -D: want milliseconds, 0 to 10000" >&2; exit 2; }
# every p2pl process started below holds its sending this long
if [ "$DELAY" -gt 0 ]; then
	export P2PL_NET_DELAY=$DELAY
else
	unset P2PL_NET_DELAY
fi
UNSERVED=0
if [ "$BASE" = 1 ] && [ "$N" -gt "$PUB_MAX_PEERS" ]; then
	UNSERVED=$((N - PUB_MAX_PEERS))
	echo "real.sh: -b with $N viewers: the publisher takes at most" \
	    "$PUB_MAX_PEERS connections, so $UNSERVED viewers cannot be fed" >&2
fi
D=$(mktemp -d "${TMPDIR:-/tmp}/p2pl-bench.XXXXXX")
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ulimit -n 65536 2>/dev/null || true

# the key first: the tracker must know the swarm id before it starts
"$BIN/p2pl-publish" -k "$D/cam.key" -o "$D/probe" /dev/null >"$D/probe.uri" \
    2>/dev/null || true
skey=$(sed -n 's/^\(p2pl:[a-z2-7]*\).*/\1/p' "$D/probe.uri" | head -n 1)
sid=$(python3 - "$skey" <<'PY'
import base64, hashlib, sys
k = sys.argv[1][5:57].upper()
key = base64.b32decode(k + "=" * (-len(k) % 8))
print(hashlib.blake2b(b"p2pl-swarm-1" + key, digest_size=20).hexdigest())
PY
)
mkdir -m 755 "$D/ot"
echo "$sid" >"$D/ot/whitelist"
chmod 644 "$D/ot/whitelist"
otport=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
opentracker -i 127.0.0.1 -p "$otport" -d "$D/ot" -w whitelist >"$D/ot.log" 2>&1 &
PIDS="$PIDS $!"
sleep 0.5

mkfifo "$D/feed"
ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=size=640x360:rate=25 \
    -f lavfi -i sine -c:v libx264 -preset ultrafast -tune zerolatency \
    -g "$(echo "$GOP * 25" | bc | cut -d. -f1)" -b:v "${KBPS}k" \
    -maxrate "${KBPS}k" -bufsize "${KBPS}k" -c:a aac -b:a 64k \
    -f mpegts -y "$D/feed" 2>/dev/null &
PIDS="$PIDS $!"
pubcap=$PUBCAP
[ "$BASE" = 1 ] && pubcap=unlimited
"$BIN/p2pl-publish" -k "$D/cam.key" -l 127.0.0.1:0 -u "$pubcap" \
    -t "http://127.0.0.1:$otport/announce" --stats "$D/pub.stats" \
    <"$D/feed" >"$D/uri" 2>"$D/pub.err" &
PUB=$!
PIDS="$PIDS $PUB"
while [ ! -s "$D/uri" ]; do
	if ! kill -0 "$PUB" 2>/dev/null; then
		echo "real.sh: p2pl-publish failed: $(cat "$D/pub.err")" >&2
		exit 1
	fi
	sleep 0.1
done
URI=$(head -n 1 "$D/uri")
i=1
while [ "$i" -le "$RELAYS" ]; do
	"$BIN/p2pl-relay" -q -l 127.0.0.1:0 --stats "$D/r.$i.stats" "$URI" \
	    2>"$D/r.$i.err" &
	eval "rpid_$i=$!"
	PIDS="$PIDS $!"
	i=$((i + 1))
done
[ "$RELAYS" -gt 0 ] && sleep 1

# start viewer I (generation G): its stats go to v.I.G.stats
start_viewer() {
	cap=$CAP only=
	if [ -n "$SLOW" ]; then
		frac=${SLOW%%:*}
		if [ "$(echo "$1 <= $frac * $N" | bc)" = 1 ]; then cap=${SLOW#*:}; fi
	fi
	[ "$BASE" = 1 ] && cap=0 only=--relay-only
	"$BIN/p2pl-fetch" -q $only -u "$cap" --stats "$D/v.$1.$2.stats" "$URI" \
	    >/dev/null 2>>"$D/v.$1.err" &
	eval "vpid_$1=$!"
	eval "vgen_$1=$2"
	PIDS="$PIDS $!"
}
i=1
while [ "$i" -le "$N" ]; do
	start_viewer "$i" 0
	sleep 0.02
	i=$((i + 1))
done
w0=$(sed -n 's/^wchar: //p' "/proc/$PUB/io")
b0=$(tail -n 1 "$D/pub.stats" 2>/dev/null | sed -n 's/.*"bytes":\([0-9]*\).*/\1/p')
t0=$(date +%s)
if [ -n "$CHURN" ]; then
	k=${CHURN%%:*} every=${CHURN#*:}
	while [ $(($(date +%s) - t0 + every)) -le "$DUR" ]; do
		sleep "$every"
		for v in $(shuf -i 1-"$N" -n "$k"); do
			eval "kill -9 \$vpid_$v; g=\$((vgen_$v + 1))"
			start_viewer "$v" "$g"
		done
	done
fi
left=$((DUR - ($(date +%s) - t0)))
[ "$left" -gt 0 ] && sleep "$left"
w1=$(sed -n 's/^wchar: //p' "/proc/$PUB/io")
b1=$(tail -n 1 "$D/pub.stats" | sed -n 's/.*"bytes":\([0-9]*\).*/\1/p')

# CPU seconds, seconds alive and peak RSS of each process, from /proc
hz=$(getconf CLK_TCK)
up=$(cut -d' ' -f1 /proc/uptime)
procinfo() {
	awk -v hz="$hz" -v up="$up" '{ sub(/.*\) /, ""); printf "%.2f %.2f",
	    ($12 + $13) / hz, up - $20 / hz }' "/proc/$2/stat"
	echo " $(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$2/status") $1" \
	    "$(sed -n 's/^RssAnon:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$2/status")" \
	    "$(sed -n 's/^Pss:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$2/smaps_rollup")"
}
procinfo publisher "$PUB" >"$D/procs"
i=1
while [ "$i" -le "$RELAYS" ]; do
	eval "procinfo relay \$rpid_$i" >>"$D/procs" 2>/dev/null || true
	i=$((i + 1))
done
i=1
while [ "$i" -le "$N" ]; do
	eval "procinfo viewer \$vpid_$i" >>"$D/procs" 2>/dev/null || true
	i=$((i + 1))
done
i=1
while [ "$i" -le "$N" ]; do
	eval "kill -TERM \$vpid_$i" 2>/dev/null || true
	i=$((i + 1))
done
sleep 1.5
python3 - "$D" "$N" "$DUR" "$KBPS" "$CAP" "$BASE" "${SLOW:-}" "${CHURN:-}" \
    "$w0" "$w1" "${b0:-0}" "${b1:-0}" "$DELAY" "$UNSERVED" "$pubcap" <<'PY' | tee "${OUT:-/dev/null}"
import glob, json, statistics, sys
d, n, dur, kbps, cap, base, slow, churn = sys.argv[1:9]
w0, w1, b0, b1, delay, unserved = map(int, sys.argv[9:15])
pubcap = sys.argv[15]
n = int(n)
def lines(f):
    out = []
    for l in open(f):
        if l.startswith("{"):
            try:
                out.append(json.loads(l))
            except ValueError:
                pass
    return out
def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, max(0, int(-(-p * len(v) // 1)) - 1))] if v else None
runs = [lines(f) for f in sorted(glob.glob(d + "/v.*.stats"))]
last = [r[-1] for r in runs if r]
pub = lines(d + "/pub.stats")[-1]
# every piece at every viewer: the viewers' histograms added up; a
# quantile is the bound of the bin it falls in (as p2pl-fetch's own)
hist = {}
for x in last:
    for bound, count in x.get("delay_hist") or []:
        hist[bound] = hist.get(bound, 0) + count
pieces = sum(hist.values())
def hq(p):
    if not pieces:
        return None
    want, seen = min(int(p * pieces), pieces - 1), 0
    for bound in sorted(hist):
        seen += hist[bound]
        if seen > want:
            return round(bound / 1e3, 4)
dmax = [x["delay_max"] for x in last if x.get("delay_max") is not None]
p50 = [x["delay_p50_all"] for x in last if x.get("delay_p50_all") is not None]
p99 = [x["delay_p99_all"] for x in last if x.get("delay_p99_all") is not None]
starts = [x["startup"] for x in last if x.get("startup") is not None]
# round trips the viewers measured (PING/PONG) to their neighbours at the
# end: loopback plus the time processes wait for a core
rtts = [nb["rtt"] for x in last for nb in x.get("neighbours") or []
        if nb.get("rtt")]
played = sum(x["pieces"] for x in last)
skipped = sum(x["skipped"] for x in last)
ups = [x["up_bytes"] / x["down_bytes"] for x in last if x.get("down_bytes")]
procs = [l.split() for l in open(d + "/procs")]
procs = [p for p in procs if len(p) == 6]
vcpu = [100 * float(p[0]) / float(p[1]) for p in procs if p[3] == "viewer"]
vrss = [int(p[2]) / 1024 for p in procs if p[3] == "viewer"]
vanon = [int(p[4]) / 1024 for p in procs if p[3] == "viewer"]
vpss = [int(p[5]) / 1024 for p in procs if p[3] == "viewer"]
pp = [p for p in procs if p[3] == "publisher"][0]
rel = [p for p in procs if p[3] == "relay"]
rup = []     # each relay's upload / what it received
for f in sorted(glob.glob(d + "/r.*.stats")):
    rl = lines(f)
    if rl and rl[-1].get("down_bytes"):
        rup.append(round(rl[-1]["up_bytes"] / rl[-1]["down_bytes"], 2))
made = b1 - b0
r = {
    "kind": "real", "viewers": n, "seconds": int(dur), "stream_kbps": round(pub["bitrate"] / 1e3),
    "cap": "0" if base == "1" else cap, "publisher_cap": pubcap, "slow": slow, "churn": churn, "baseline": base == "1",
    "started": len(starts), "runs": len(last),
    "net_delay_ms": delay, "baseline_unserved": unserved,
    "delay_p50": hq(.5), "delay_p95": hq(.95), "delay_p99": hq(.99),
    "delay_max": max(dmax) if dmax else None, "delay_pieces": pieces,
    "delay_p50_median_viewer": q(p50, 0.5), "delay_p99_median_viewer": q(p99, 0.5),
    "delay_p99_worst_viewer": max(p99) if p99 else None,
    "startup_p50": q(starts, 0.5), "startup_p99": q(starts, 0.99),
    "rtt_p10": q(rtts, 0.1), "rtt_p50": q(rtts, 0.5), "rtt_p90": q(rtts, 0.9),
    "continuity": round(played / (played + skipped), 5) if played + skipped else 0,
    "played": played, "skipped": skipped,
    "publisher_ratio": round(pub["up_bytes"] / pub["bytes"], 3),
    "publisher_ratio_proc": round((w1 - w0) / made, 3) if made > 0 else None,
    "upload_min": q(ups, 0), "upload_p10": q(ups, 0.1), "upload_median": q(ups, 0.5),
    "upload_p90": q(ups, 0.9), "upload_max": q(ups, 1),
    "viewer_cpu_pct_median": round(q(vcpu, 0.5), 2) if vcpu else None,
    "viewer_cpu_pct_max": round(max(vcpu), 2) if vcpu else None,
    "viewer_rss_mib_median": round(q(vrss, 0.5), 1) if vrss else None,
    "viewer_rss_mib_max": round(max(vrss), 1) if vrss else None,
    "viewer_anon_mib_median": round(q(vanon, 0.5), 1) if vanon else None,
    "viewer_pss_mib_median": round(q(vpss, 0.5), 1) if vpss else None,
    "publisher_cpu_pct": round(100 * float(pp[0]) / float(pp[1]), 2),
    "publisher_rss_mib": round(int(pp[2]) / 1024, 1),
    "relays": len(rel), "relay_upload": rup,
    "relay_cpu_pct": [round(100 * float(p[0]) / float(p[1]), 2) for p in rel],
    "relay_rss_mib": [round(int(p[2]) / 1024, 1) for p in rel],
}
for k in ("upload_min", "upload_p10", "upload_median", "upload_p90", "upload_max"):
    if r[k] is not None:
        r[k] = round(r[k], 2)
print(json.dumps(r))
PY
