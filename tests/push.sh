# tests/push.sh - sourced by the push tests (t0240, t0245) after lib.sh:
# an encoder pushing to p2pl-publish -L, as OBS does.  Not a test itself.

# pusher URL: ffmpeg pushing a live test pattern (H.264 + AAC) to URL,
# in MPEG-TS for srt://, FLV for rtmp://; sets PUSH_PID.  A listener
# that is between two openings refuses it: it is started again while it
# dies at once.
pusher() {
	case $1 in
	rtmp://*) fmt=flv ;;
	*) fmt=mpegts ;;
	esac
	for try in 1 2 3 4 5 6 7 8 9 10; do
		ffmpeg -nostdin -v error -re -f lavfi \
		    -i testsrc2=size=320x240:rate=25 -f lavfi \
		    -i sine=frequency=440 -c:v libx264 -preset ultrafast \
		    -tune zerolatency -g 25 -b:v 400k -c:a aac -f "$fmt" "$1" \
		    >>"$T/push.log" 2>&1 &
		PUSH_PID=$!
		PIDS="$PIDS $!"
		sleep 1
		! kill -0 $PUSH_PID 2>/dev/null || return 0
	done
	fail "the encoder cannot reach the publisher: $(cat "$T/push.log")"
}

# said PATTERN N: the publisher said PATTERN at least N times
said() { [ "$(grep -c "$1" "$T/pub.err")" -ge "$2" ]; }

# grown BYTES: the viewer's output is 60000 bytes past BYTES
grown() { [ "$(size_of "$T/v.out")" -gt $(($1 + 60000)) ]; }

# push_test URL GARBAGE: publish URL with -L; a pusher, a viewer; the
# pusher is killed, GARBAGE (a shell function) sends junk to the port and
# the publisher must say why it is refused (GARBAGE_SAYS) and listen
# again; a new pusher comes and the viewer goes on playing.
push_test() {
	url=$1 garbage=$2
	p2pl-publish -v -k "$T/cam.key" -l 127.0.0.1:0 --stats "$T/pub.stats" \
	    -L "$url" >"$T/uri" 2>"$T/pub.err" &
	PUB_PID=$!
	PIDS="$PIDS $PUB_PID"
	wait_for 10 test -s "$T/uri" || fail "no uri: $(cat "$T/pub.err")"
	wait_for 10 said 'waiting for the sender' 1 ||
	    fail "publisher does not listen: $(cat "$T/pub.err")"
	pusher "$url"
	wait_for 15 said 'h264 320x240, aac' 1 ||
	    fail "the push did not open: $(cat "$T/pub.err" "$T/push.log")"
	viewer v "$(head -n 1 "$T/uri")"
	wait_for 15 grown 0 ||
	    fail "viewer got nothing: $(cat "$T/v.err" "$T/pub.err")"

	kill -9 $PUSH_PID
	wait $PUSH_PID 2>/dev/null || true
	wait_for 15 said 'input lost' 1 ||
	    fail "publisher did not notice the encoder went: $(cat "$T/pub.err")"
	wait_for 10 said 'waiting for the sender' 2 ||
	    fail "publisher does not listen again: $(cat "$T/pub.err")"
	$garbage
	wait_for 20 said "$GARBAGE_SAYS" 1 ||
	    fail "no clear error for garbage: $(cat "$T/pub.err")"
	note "garbage: $(grep "$GARBAGE_SAYS" "$T/pub.err" | head -n 1)"
	if [ -n "${GARBAGE_SAYS2:-}" ]; then
		wait_for 20 said "$GARBAGE_SAYS2" 1 ||
		    fail "no clear error for the second junk: $(cat "$T/pub.err")"
		note "junk: $(grep "$GARBAGE_SAYS2" "$T/pub.err" | head -n 1)"
	fi
	# it listened first, after the encoder went, and after each junk
	listens=3
	[ -z "${GARBAGE_SAYS2:-}" ] || listens=4
	wait_for 10 said 'waiting for the sender' $listens ||
	    fail "publisher does not listen after the garbage: $(cat "$T/pub.err")"
	kill -0 $PUB_PID || fail "publisher exited: $(cat "$T/pub.err")"
	kill -0 $VIEWER_PID || fail "viewer exited: $(cat "$T/v.err")"

	before=$(size_of "$T/v.out")
	pusher "$url"
	wait_for 15 said 'input back' 1 ||
	    fail "input not back: $(cat "$T/pub.err" "$T/push.log")"
	wait_for 15 grown "$before" ||
	    fail "viewer did not resume after the reconnect: $(cat "$T/v.err")"
	note "reconnect: output $before -> $(size_of "$T/v.out") bytes"
	stop $VIEWER_PID
	kill -0 $PUB_PID || fail "publisher exited: $(cat "$T/pub.err")"
	stop $PUB_PID
	grep -qi "sanitizer\|runtime error" "$T/pub.err" "$T/v.err" &&
	    fail "$(cat "$T/pub.err" "$T/v.err")"
	# the player saw one stream across the reconnect, and the pieces
	# after it decode too: the part from the reconnect on, alone
	decodes "$T/v.out"
	dts_monotonic "$T/v.out" || fail "timestamps go back in the output"
	tail -c +$((before / 188 * 188 + 1)) "$T/v.out" >"$T/after.ts"
	[ "$(size_of "$T/after.ts")" -gt 60000 ] || fail "little after the reconnect"
	ffprobe -v error -show_entries stream=codec_name -of csv=p=0 \
	    "$T/after.ts" >"$T/after.probe" 2>&1
	grep -q h264 "$T/after.probe" || fail "after the reconnect: $(cat "$T/after.probe")"
	# it starts at the new opening's first join point: no error at all
	decodes "$T/after.ts"
	note "$(grep -c . "$T/pub.err") publisher lines"
}
