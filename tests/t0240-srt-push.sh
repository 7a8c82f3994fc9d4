#!/bin/sh
# An encoder pushes to the publisher over SRT, as OBS does: p2pl-publish
# -L srt://127.0.0.1:PORT listens (SRT's listener mode), ffmpeg is the
# caller.  A viewer plays it; the encoder is killed, a sender of junk
# over SRT is refused with a clear message and stray UDP datagrams are
# ignored, while the publisher keeps its swarm up and listens again; a
# new encoder connects and the viewer plays on, and what it got after
# the reconnect decodes on its own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/push.sh"

# junk: stray datagrams on the port, then an SRT connection that carries
# text, not media
junk() {
	python3 -c "import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(100): s.sendto(b'garbage' * 100, ('127.0.0.1', int(sys.argv[1])))" "$port"
	python3 -c "import sys, time
for i in range(100):
    sys.stdout.buffer.write(b'this is not a video stream\n' * 4000)
    sys.stdout.flush()
    time.sleep(0.1)" 2>/dev/null | ffmpeg -nostdin -v error -f data -i - -map 0 \
	    -c copy -f data "srt://127.0.0.1:$port" >>"$T/junk.log" 2>&1 &
	PIDS="$PIDS $!"
}
GARBAGE_SAYS='no media stream found in input'

port=$(free_port)
push_test "srt://127.0.0.1:$port" junk
