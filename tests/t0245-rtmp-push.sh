#!/bin/sh
# An encoder pushes to the publisher over RTMP, as OBS does:
# p2pl-publish -L rtmp://127.0.0.1:PORT/live/KEY waits for it (libavformat's
# RTMP listen mode), ffmpeg publishes FLV to that URL.  A viewer plays it;
# the encoder is killed, a client sending junk instead of the RTMP
# handshake, and an encoder with the wrong stream key, are refused with a
# clear message, while the publisher keeps
# its swarm up and listens again; a new encoder connects and the viewer
# plays on, and what it got after the reconnect decodes on its own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/push.sh"

junk() {
	python3 -c "import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'GET / HTTP/1.0\r\n\r\n' + b'garbage' * 1000)
time.sleep(2)" "$port" >>"$T/junk.log" 2>&1 || true
	# an encoder with the wrong stream key, refused at once
	timeout 20 ffmpeg -nostdin -v error -re -f lavfi \
	    -i testsrc2=size=320x240:rate=25 -c:v libx264 -preset ultrafast \
	    -g 25 -f flv "rtmp://127.0.0.1:$port/live/wrong" >>"$T/junk.log" 2>&1 || true
}
GARBAGE_SAYS='cannot open rtmp://.*RTMP protocol version mismatch'
GARBAGE_SAYS2='refused an encoder: Unexpected stream wrong, expecting test'

port=$(free_port)
push_test "rtmp://127.0.0.1:$port/live/test" junk
