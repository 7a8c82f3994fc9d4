#!/bin/sh
# When the player quits (here head), the viewer exits 0 without a word.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
rc=0
p2pl-fetch "$URI" 2>"$T/err" | head -c 100000 >"$T/head.out" || rc=$?
[ $rc -eq 0 ] || fail "pipeline exited $rc"
[ "$(size_of "$T/head.out")" -eq 100000 ] || fail "short output"
[ ! -s "$T/err" ] || fail "noise on stderr: $(cat "$T/err")"
# the same with a player that quits: ffmpeg reading a few frames
rc=0
p2pl-fetch "$URI" 2>"$T/err2" | ffmpeg -nostdin -v error -i - -frames:v 10 \
    -f null - 2>"$T/ff.err" || rc=$?
[ $rc -eq 0 ] || fail "ffmpeg pipeline exited $rc: $(cat "$T/ff.err")"
[ ! -s "$T/err2" ] || fail "noise on stderr: $(cat "$T/err2")"
