#!/bin/sh
# -u caps the publisher's upload: with a cap below the stream's bitrate the
# bytes it sends stay within the cap (the viewer skips what does not fit),
# and with a cap of a multiple of the bitrate the viewer misses nothing.
. "$(dirname "$0")/lib.sh"

# sent_rate STATS: bits/s of up_bytes between the 3rd and the last line
sent_rate() {
	python3 - "$1" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
a, b = lines[2], lines[-1]
print(int((b["up_bytes"] - a["up_bytes"]) * 8 / (b["time"] - a["time"])))
PY
}

camera cam
publish cam cam.key -u 200k
viewer v "$URI"
sleep 8
stop $VIEWER_PID
rate=$(sent_rate "$T/cam.pub.stats")
stream=$(last_stat "$T/cam.pub.stats" bitrate)
note "capped at 200k: sent $rate bit/s of a $stream bit/s stream"
# 200 kbit/s plus one 128 KiB burst spread over the measured seconds
[ "$rate" -le 400000 ] || fail "publisher sent $rate bit/s over a 200k cap"
[ "$(last_stat "$T/v.stats" skipped)" -gt 0 ] || fail "nothing skipped under a cap below the stream"

kill -0 $PUB_PID || fail "publisher died: $(cat "$T/cam.pub.err")"
kill $PUB_PID $CAMERA_PID
rm -f "$T/cam.ts" "$T/cam.uri"
camera cam
publish cam cam2.key -u 2x
viewer v2 "$URI"
sleep 6
stop $VIEWER_PID
[ "$(last_stat "$T/v2.stats" skipped)" -eq 0 ] || fail "viewer skipped under a 2x cap"
decodes "$T/v2.out"
