#!/bin/sh
# Inputs other than H.264: an H.265 camera and an audio-only (MP2) radio
# stream, both served over HTTP, reach a viewer and decode; inputs that
# MPEG-TS cannot carry (VP9 from a WebM file or a WebM camera, MJPEG) are
# refused at once with status 1 and a message naming the codec.  A file
# with --retry 2 plays three times, then the publisher exits 0.
. "$(dirname "$0")/lib.sh"

# live NAME CODEC URL: publish URL, watch it until the viewer has 80 kB,
# then check that the output decodes and holds a CODEC stream
live() {
	name=$1 codec=$2 url=$3
	p2pl-publish -k "$T/$name.key" -l 127.0.0.1:0 "$url" >"$T/$name.uri" \
	    2>"$T/$name.pub.err" &
	pub=$!
	PIDS="$PIDS $pub"
	wait_for 10 test -s "$T/$name.uri" || fail "$name: no uri"
	viewer "$name" "$(head -n 1 "$T/$name.uri")"
	big() { [ "$(size_of "$T/$name.out")" -gt 80000 ]; }
	wait_for 20 big || fail "$name: viewer got $(size_of "$T/$name.out") bytes: $(cat "$T/$name.pub.err" "$T/$name.err")"
	stop $VIEWER_PID
	stop $pub
	kill $CAMERA_PID 2>/dev/null || true
	decodes "$T/$name.out"
	got=$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 \
	    "$T/$name.out" | grep . | sort -u | tr '\n' ' ')
	[ "$got" = "$codec " ] || fail "$name: output has '$got', want $codec"
	note "$name: $(size_of "$T/$name.out") bytes of $got decode"
}

port=$(free_port)
http_camera hevc "$port" -map 0:v -c:v libx265 -preset ultrafast \
    -x265-params keyint=25:log-level=error -b:v 300k
live hevc hevc "http://127.0.0.1:$port"

port=$(free_port)
ffmpeg -nostdin -v error -re -f lavfi -i sine=frequency=440 -c:a mp2 \
    -b:a 128k -f mpegts -listen 1 "http://127.0.0.1:$port" \
    2>"$T/radio.ffmpeg.err" &
CAMERA_PID=$!
PIDS="$PIDS $!"
wait_for 10 listening "$port" || fail "radio did not start"
live radio mp2 "http://127.0.0.1:$port"

# refused: status 1 at once (a camera's codec will not change by retrying)
# and a message naming the codec
refused() {
	want=$1
	shift
	rc=0
	p2pl-publish -k "$T/r.key" -l 127.0.0.1:0 "$@" >/dev/null \
	    2>"$T/r.err" </dev/null || rc=$?
	[ $rc -eq 1 ] || fail "$*: exited $rc, want 1: $(cat "$T/r.err")"
	grep -q "codec $want cannot be carried in MPEG-TS" "$T/r.err" ||
	    fail "$*: no word about $want: $(cat "$T/r.err")"
	grep -q "retrying" "$T/r.err" && fail "$*: retried: $(cat "$T/r.err")"
	note "$(cat "$T/r.err" | tail -n 1)"
}
ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=320x240:rate=25 -t 2 \
    -c:v libvpx-vp9 -deadline realtime -f webm "$T/vp9.webm"
refused vp9 "$T/vp9.webm"
port=$(free_port)
ffmpeg -nostdin -v error -re -i "$T/vp9.webm" -c copy -f webm \
    -listen 1 "http://127.0.0.1:$port" 2>"$T/vp9.ffmpeg.err" &
PIDS="$PIDS $!"
wait_for 10 listening "$port" || fail "vp9 camera did not start"
refused vp9 "http://127.0.0.1:$port"
# ffmpeg's mpegts muxer writes MJPEG, but as a private stream that
# demuxers read back as bin_data, not video: refused
ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=320x240:rate=25 -t 1 \
    -c:v mjpeg "$T/mjpeg.mkv"
refused mjpeg "$T/mjpeg.mkv"

# a file with --retry 2: opened three times, then done
ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=320x240:rate=25 -t 1 \
    -c:v libx264 -preset ultrafast -g 25 -f mpegts "$T/short.ts"
rc=0
p2pl-publish -k "$T/f.key" -o "$T/f.p2pl" --retry 2 "$T/short.ts" \
    >/dev/null 2>"$T/f.err" || rc=$?
[ $rc -eq 0 ] || fail "file with --retry 2 exited $rc: $(cat "$T/f.err")"
[ "$(grep -c 'input back' "$T/f.err")" -eq 2 ] ||
    fail "file not played three times: $(cat "$T/f.err")"
