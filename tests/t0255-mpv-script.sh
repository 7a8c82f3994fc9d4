#!/bin/sh
# contrib/mpv/p2pl.lua: mpv given a p2pl: URI plays it (frames of the
# stream's size, exit 0) through p2pl-fetch, and leaves no p2pl-fetch and
# no FIFO behind; a bad URI fails with p2pl-fetch's message, promptly.
. "$(dirname "$0")/lib.sh"

command -v mpv >/dev/null || fail "mpv is not installed (contrib/install-deps.sh)"
script=$(cd "$(dirname "$0")/.." && pwd)/contrib/mpv/p2pl.lua
export TMPDIR="$T"	# mktemp in the script makes its FIFO directory here
# (no spaces in these paths: mktemp's and the source tree's)
mpv="mpv --no-config --script=$script --vo=null --ao=null --quiet"

camera cam
publish cam cam.key
key=${URI#p2pl:}
key=${key%%\?*}
rc=0
timeout 60 $mpv --frames=50 --script-opts="p2pl-args=--stats $T/fetch.stats" \
    --term-playing-msg='p2pl-test: ${width}x${height}' "$URI" \
    >"$T/mpv.out" 2>&1 </dev/null || rc=$?
[ $rc -eq 0 ] || fail "mpv exited $rc: $(tail -c 2000 "$T/mpv.out")"
grep -q '^p2pl-test: 320x240$' "$T/mpv.out" ||
    fail "mpv did not play the stream: $(tail -c 2000 "$T/mpv.out")"
pieces=$(last_stat "$T/fetch.stats" pieces)
[ "${pieces:-0}" -gt 0 ] || fail "p2pl-fetch wrote no pieces"
note "mpv played 50 frames; p2pl-fetch wrote $pieces pieces"
sleep 0.5
! pgrep -f "p2pl-fetch.*$key" >/dev/null || fail "p2pl-fetch left running"
[ -z "$(ls -d "$T"/p2pl-mpv.* 2>/dev/null)" ] || fail "FIFO directory left"

# a bad URI: p2pl-fetch's error, mpv fails (2) instead of waiting
rc=0
timeout 20 $mpv --msg-level=all=error 'p2pl:bad' >"$T/bad.out" 2>&1 \
    </dev/null || rc=$?
[ $rc -eq 2 ] || fail "bad uri: mpv exited $rc: $(cat "$T/bad.out")"
grep -q 'p2pl-fetch: bad stream key' "$T/bad.out" ||
    fail "no message from p2pl-fetch: $(cat "$T/bad.out")"
[ -z "$(ls -d "$T"/p2pl-mpv.* 2>/dev/null)" ] || fail "FIFO directory left"
