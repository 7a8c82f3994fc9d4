#!/bin/sh
# An RTSP camera: an RTSP server (Perl's RTSP::Server) fed by ffmpeg,
# published by its rtsp:// URL.  The camera "reboots" (server and encoder
# killed, then started again): the publisher reconnects through refused
# connections and 404s while the viewer stays attached; the viewer's
# output grows again, decodes as a whole and its timestamps never go back.
. "$(dirname "$0")/lib.sh"

perl -MRTSP::Server -e 1 2>/dev/null ||
    fail "perl's RTSP::Server is missing (contrib/install-deps.sh installs it)"

# rtsp_camera: the server on $cport (clients) and $sport (the encoder's
# ANNOUNCE/RECORD), then the encoder; sets SRV_PID and ENC_PID
rtsp_camera() {
	perl -MRTSP::Server -MAnyEvent -e '
	    my $s = RTSP::Server->new(client_listen_port => $ARGV[0],
	        source_listen_port => $ARGV[1], log_level => 1,
	        client_listen_address => "127.0.0.1",
	        source_listen_address => "127.0.0.1");
	    $s->listen; AnyEvent->condvar->recv' "$cport" "$sport" \
	    >>"$T/srv.log" 2>&1 &
	SRV_PID=$!
	PIDS="$PIDS $!"
	wait_for 10 listening "$sport" || fail "rtsp server: $(cat "$T/srv.log")"
	# the encoder is refused now and then just after the server starts
	# listening: try again while it dies at once
	for try in 1 2 3 4 5; do
		ffmpeg -nostdin -v error -re -f lavfi \
		    -i testsrc2=size=320x240:rate=25 -f lavfi \
		    -i sine=frequency=440 -c:v libx264 -preset ultrafast \
		    -tune zerolatency -g 25 -b:v 400k -c:a aac -f rtsp \
		    "rtsp://127.0.0.1:$sport/cam" >>"$T/enc.log" 2>&1 &
		ENC_PID=$!
		PIDS="$PIDS $!"
		sleep 1
		! kill -0 $ENC_PID 2>/dev/null || return 0
	done
	fail "the encoder cannot reach the rtsp server: $(cat "$T/enc.log")"
}

cport=$(free_port) sport=$(free_port)
rtsp_camera
p2pl-publish -k "$T/cam.key" -l 127.0.0.1:0 --timeout 3 \
    "rtsp://127.0.0.1:$cport/cam" >"$T/uri" 2>"$T/pub.err" &
PUB_PID=$!
PIDS="$PIDS $PUB_PID"
wait_for 10 test -s "$T/uri" || fail "no uri: $(cat "$T/pub.err")"
viewer v "$(head -n 1 "$T/uri")"
grown() { [ "$(size_of "$T/v.out")" -gt $(($1 + 60000)) ]; }
wait_for 15 grown 0 || fail "viewer got nothing: $(cat "$T/pub.err" "$T/v.err")"

kill -9 $ENC_PID $SRV_PID
wait $ENC_PID $SRV_PID 2>/dev/null || true
lost() { grep -q "input lost" "$T/pub.err"; }
wait_for 10 lost || fail "publisher did not notice: $(cat "$T/pub.err")"
before=$(size_of "$T/v.out")
sleep 1
rtsp_camera
back() { grep -q "input back" "$T/pub.err"; }
wait_for 20 back || fail "input not back: $(cat "$T/pub.err" "$T/enc.log")"
wait_for 15 grown "$before" || fail "viewer did not resume: $(cat "$T/v.err")"
kill -0 $PUB_PID || fail "publisher exited"
stop $VIEWER_PID
stop $PUB_PID
decodes "$T/v.out"
dts_monotonic "$T/v.out" || fail "timestamps go back in the output"
note "$(grep -v created "$T/pub.err" | sed 's/^p2pl-publish: rtsp[^ ]* //' | tr '\n' ' ')"
