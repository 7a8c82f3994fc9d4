#!/bin/sh
# A late viewer of a stream with a keyframe every 8 s starts at the newest
# join point, which is already seconds old, instead of waiting for the
# next: its neighbours send it that join point and what follows although
# they are older than its latency, and it writes them at once, before the
# pieces made after it started.  So the first pieces it writes are older
# than the time it waited (delay_max >= 2 s; waiting for the next keyframe
# they would be milliseconds old), nothing is skipped, and it decodes.
. "$(dirname "$0")/lib.sh"

mkfifo "$T/cam.ts"
ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=size=320x240:rate=25 \
    -c:v libx264 -preset ultrafast -tune zerolatency -g 200 -b:v 400k \
    -f mpegts -y "$T/cam.ts" 2>"$T/cam.ffmpeg.err" &
PIDS="$PIDS $!"
publish cam cam.key
# the first join point is the publisher's first piece; the next comes 8 s
# after it
sleep 3.5
viewer v1 "$URI"
v1=$VIEWER_PID
sleep 3
stop $v1
decodes "$T/v1.out"
dmax=$(last_stat "$T/v1.stats" delay_max)
note "v1: startup $(last_stat "$T/v1.stats" startup) s, first pieces up to $dmax s old, $(last_stat "$T/v1.stats" pieces) pieces, $(last_stat "$T/v1.stats" skipped) skipped"
[ "$(echo "$dmax >= 2" | bc)" = 1 ] ||
    fail "v1 waited for the next join point (delay_max $dmax s)"
[ "$(last_stat "$T/v1.stats" skipped)" -eq 0 ] || fail "v1 skipped pieces"
