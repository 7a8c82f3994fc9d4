#!/bin/sh
# p2pl-fetch --http serves HLS: /index.m3u8 is a live playlist (version 3,
# a target duration no segment exceeds, a media sequence, a window of at
# most 6 segments that slides), each /seg-N.ts starts at a keyframe and
# decodes alone, and ffmpeg plays the playlist without an error.  With
# stdout a terminal --http alone is enough (here: script's pty).
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
hp=$(free_port)
base=http://127.0.0.1:$hp
# stdout a terminal: nothing is written there, and it is not an error.
# The viewer's own pid is killed at the end too: a SIGHUP from the pty's
# end need not reach it (nohup ignores it for the whole run)
script -qec "echo \$\$ >$T/v.pid; exec p2pl-fetch --stats $T/v.stats \
    --http 127.0.0.1:$hp '$URI' 2>$T/v.err" /dev/null >"$T/v.tty" \
    2>/dev/null </dev/null &
V=$!
PIDS="$PIDS $V"
has_pid() { [ -s "$T/v.pid" ]; }
wait_for 10 has_pid || fail "the viewer did not start under script"
PIDS="$PIDS $(cat "$T/v.pid")"
segs() {
	curl -fsS -o "$T/pl" "$base/index.m3u8" 2>/dev/null &&
	    [ "$(grep -c '^seg-' "$T/pl")" -ge "$1" ]
}
wait_for 40 segs 6 || fail "no playlist of 6 segments: $(cat "$T/v.err")"
curl -sS -D "$T/pl.head" -o "$T/pl" "$base/index.m3u8"
grep -qi '^Content-Type: application/vnd.apple.mpegurl' "$T/pl.head" ||
    fail "playlist type: $(cat "$T/pl.head")"
grep -qi '^Access-Control-Allow-Origin: \*' "$T/pl.head" ||
    fail "no CORS header: $(cat "$T/pl.head")"

# check_playlist FILE: the rules above; prints the media sequence
check_playlist() {
	python3 - "$1" <<'PY'
import math, re, sys
lines = open(sys.argv[1]).read().split("\n")
def die(m): sys.exit("playlist: " + m + ":\n" + "\n".join(lines))
if lines[0] != "#EXTM3U": die("no #EXTM3U")
tags = {}
segs = []
dur = None
for l in lines[1:]:
    if l.startswith("#EXTINF:"):
        dur = float(l[8:].split(",")[0])
    elif l.startswith("#EXT-X-") and ":" in l:
        k, v = l[1:].split(":", 1)
        tags[k] = v
    elif l and not l.startswith("#"):
        if dur is None: die("segment without EXTINF")
        segs.append((l, dur))
        dur = None
if tags.get("EXT-X-VERSION") != "3": die("not version 3")
td = int(tags["EXT-X-TARGETDURATION"])
ms = int(tags["EXT-X-MEDIA-SEQUENCE"])
if not 1 <= len(segs) <= 6: die("%d segments" % len(segs))
for i, (name, d) in enumerate(segs):
    if name != "seg-%d.ts" % (ms + i): die("segment %d is %s" % (ms + i, name))
    if round(d) > td: die("%s lasts %.3f s > %d" % (name, d, td))
    if not 0.5 <= d <= 3.5: die("%s lasts %.3f s" % (name, d))
print(ms, " ".join(n for n, _ in segs))
PY
}
first=$(check_playlist "$T/pl") || fail "$first"
note "playlist: media sequence and segments: $first"
ms0=${first%% *}

# every segment: video/mp2t, a keyframe first, decodes alone
for s in ${first#* }; do
	curl -sS -D "$T/$s.head" -o "$T/$s" "$base/$s"
	grep -q '^HTTP/1.1 200' "$T/$s.head" || fail "$s: $(cat "$T/$s.head")"
	grep -qi '^Content-Type: video/mp2t' "$T/$s.head" || fail "$s: type"
	decodes "$T/$s"
	k=$(ffprobe -v error -select_streams v -show_entries frame=key_frame \
	    -read_intervals '%+#5' -of csv=p=0 "$T/$s" | head -n 1 | cut -d, -f1)
	[ "$k" = 1 ] || fail "$s does not start with a keyframe"
done
note "each segment starts at a keyframe and decodes alone"

rc=0
timeout 60 ffmpeg -nostdin -v error -i "$base/index.m3u8" -map 0:v \
    -frames:v 100 -f framecrc "$T/hls.crc" 2>"$T/hls.err" || rc=$?
[ $rc -eq 0 ] || fail "ffmpeg on the playlist exited $rc: $(head -c 500 "$T/hls.err")"
[ ! -s "$T/hls.err" ] || fail "ffmpeg on the playlist: $(head -c 500 "$T/hls.err")"
n=$(grep -vc '^#' "$T/hls.crc")
[ "$n" -eq 100 ] || fail "ffmpeg decoded $n frames of the playlist"
note "ffmpeg decoded 100 frames of the HLS playlist without an error"

# the window slides
slid() {
	curl -fsS -o "$T/pl2" "$base/index.m3u8" &&
	    now=$(check_playlist "$T/pl2") && [ "${now%% *}" -gt "$ms0" ]
}
wait_for 20 slid || fail "the playlist does not slide: $(cat "$T/pl2")"
now=$(check_playlist "$T/pl2")
note "later: $now"
# an old segment is gone: 404
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/seg-999999.ts")
[ "$code" = 404 ] || fail "a segment not kept: $code"
[ "$(stat_num "$T/v.stats" hls_segments)" -gt 6 ] || fail "hls_segments"
# the viewer's own figures for Prometheus: its stream label, pieces it
# played, delays to its player
curl -sS -D "$T/m.head" -o "$T/metrics" "$base/metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/m.head" ||
    fail "metrics content type: $(cat "$T/m.head")"
grep -q '^# TYPE p2pl_delay_seconds summary' "$T/metrics" ||
    fail "no delay summary: $(cat "$T/metrics")"
played=$(sed -n 's/^p2pl_pieces_played_total{stream="[a-z2-7]*"} //p' "$T/metrics")
[ -n "$played" ] && [ "$played" -gt 0 ] || fail "pieces played: $(cat "$T/metrics")"
grep -q '^p2pl_info{.*prog="p2pl-fetch"' "$T/metrics" || fail "no p2pl_info"
note "metrics: $played pieces played, $(grep -c '^p2pl_' "$T/metrics") samples"
[ ! -s "$T/v.tty" ] || fail "media written to the terminal"
[ ! -s "$T/v.err" ] || fail "v wrote to stderr: $(cat "$T/v.err")"
