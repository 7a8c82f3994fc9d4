#!/bin/sh
# Headless Chromium plays p2pl-fetch --http's HLS with hls.js (from npm,
# installed once into the build directory): the page is served from
# another origin (python3 http.server), so the CORS header is needed; the
# video's currentTime advances by 3 s of media, and a screenshot shows the
# test pattern (many colours, not a black or empty frame).
. "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
command -v chromium >/dev/null || fail "chromium is not installed (contrib/install-deps.sh)"
npmdir=$(dirname "$P2PL_BIN")/npm
hlsjs=$npmdir/node_modules/hls.js/dist/hls.min.js
if [ ! -f "$hlsjs" ]; then
	mkdir -p "$npmdir"
	(cd "$npmdir" && npm install --no-audit --no-fund --silent hls.js) \
	    >"$T/npm.log" 2>&1 || fail "npm install hls.js: $(tail -n 5 "$T/npm.log")"
fi
mkdir "$T/www"
cp "$hlsjs" "$T/www/hls.min.js"
cp "$here/tools/hls-page.html" "$T/www/index.html"

camera cam
publish cam cam.key
hp=$(free_port)
viewer v --http 127.0.0.1:$hp "$URI"
V=$VIEWER_PID
wp=$(free_port)
(cd "$T/www" && exec python3 -m http.server -b 127.0.0.1 "$wp") \
    >"$T/www.log" 2>&1 &
PIDS="$PIDS $!"
segs() {
	curl -fsS "http://127.0.0.1:$hp/index.m3u8" 2>/dev/null |
	    grep -q '^seg-'
}
wait_for 30 segs || fail "no playlist: $(cat "$T/v.err")"
wait_for 10 listening "$wp" || fail "no page server: $(cat "$T/www.log")"
url="http://127.0.0.1:$wp/index.html#http://127.0.0.1:$hp/index.m3u8"
rc=0
timeout 120 node "$here/tools/browser.js" chromium "$T/profile" "$url" 3 \
    "$T/shot.png" >"$T/browser.out" 2>"$T/browser.err" || rc=$?
note "page: $(tail -n 1 "$T/browser.out")"
[ $rc -eq 0 ] || fail "the video did not play 3 s: $(tail -n 3 "$T/browser.out") $(grep -v dbus "$T/browser.err" | tail -n 5)"
grep -q 'errors=0' "$T/browser.out" || note "hls.js reported (non-fatal) errors"
# the picture: the video's 640x480 at the top, scaled down
ffmpeg -nostdin -v error -i "$T/shot.png" -vf crop=640:480:0:0,scale=64:48 \
    -f rawvideo -pix_fmt rgb24 "$T/shot.rgb" || fail "no screenshot"
python3 - "$T/shot.rgb" <<'PY' || fail "the screenshot does not show the test pattern"
import sys
d = open(sys.argv[1], "rb").read()
px = [d[i:i + 3] for i in range(0, len(d), 3)]
colours = {tuple(c // 64 for c in p) for p in px}
lit = sum(1 for p in px if max(p) > 64) / len(px)
print("# screenshot: %d colours (of 64 levels), %.0f%% lit" % (len(colours), lit * 100), file=sys.stderr)
sys.exit(0 if len(colours) >= 8 and lit > 0.8 else 1)
PY
cp "$T/shot.png" "$(dirname "$P2PL_BIN")/t0270-screenshot.png" 2>/dev/null || true
stop $V
