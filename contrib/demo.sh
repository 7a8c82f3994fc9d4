#!/bin/sh
# contrib/demo.sh - a live broadcast on this machine: an ffmpeg test
# pattern into p2pl-publish and three p2pl-fetch viewers, one into mpv when
# a display exists, the others decoded by ffmpeg.  Prints each viewer's
# delay and skipped pieces every 5 s and a summary at the end.  Stops after
# DURATION seconds (default 20) or Ctrl-C, leaving no process behind.
set -eu
cd "$(dirname "$0")/.."
BIN=${P2PL_BIN:-$PWD/build/bin}
DURATION=${DURATION:-20}
D=$(mktemp -d "${TMPDIR:-/tmp}/p2pl-demo.XXXXXX")
JOBS=	# process groups: each background job runs under setsid

cleanup() {
	trap - EXIT INT TERM
	for j in $JOBS; do kill -TERM "-$j" 2>/dev/null || true; done
	sleep 0.5
	for j in $JOBS; do kill -KILL "-$j" 2>/dev/null || true; done
	rm -rf "$D"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted"; summary; exit 130' INT TERM

field() {	# field FILE NAME: NAME from the last stats line
	tail -n 1 "$1" 2>/dev/null | sed -e 's/,"neighbours":\[.*/}/' -n -e "s/.*\"$2\":\\([^,}]*\\).*/\\1/p"
}

summary() {
	printf '%-8s %8s %9s %9s %9s %8s\n' viewer pieces "delay p50" "delay p99" \
	    "p99 all" skipped
	for v in 1 2 3; do
		f=$D/viewer$v.stats
		printf '%-8s %8s %8ss %8ss %8ss %8s\n' "viewer$v" \
		    "$(field "$f" pieces)" "$(field "$f" delay_p50)" \
		    "$(field "$f" delay_p99)" "$(field "$f" delay_p99_all)" \
		    "$(field "$f" skipped)"
	done
}

echo "demo: broadcasting a 640x360 test pattern for $DURATION s (Ctrl-C stops)"
mkfifo "$D/feed"
setsid ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=size=640x360:rate=25 \
    -f lavfi -i sine -c:v libx264 -preset ultrafast -tune zerolatency -g 25 \
    -b:v 800k -c:a aac -f mpegts -y "$D/feed" &
JOBS="$JOBS $!"
setsid "$BIN/p2pl-publish" -k "$D/cam.key" -l 127.0.0.1:0 <"$D/feed" >"$D/uri" &
JOBS="$JOBS $!"
i=0
while [ ! -s "$D/uri" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "demo: the publisher did not start" >&2; exit 1; }
	sleep 0.1
done
URI=$(head -n 1 "$D/uri")
echo "demo: stream $URI"

for v in 1 2 3; do
	if [ $v -eq 1 ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; } &&
	    command -v mpv >/dev/null; then
		echo "demo: viewer1 plays in mpv"
		player='mpv --really-quiet --profile=low-latency --untimed --title=p2pl -'
	else
		player='ffmpeg -nostdin -v error -i - -f null -'
	fi
	setsid sh -c "\"\$0\" --stats \"\$1\" \"\$2\" | $player" \
	    "$BIN/p2pl-fetch" "$D/viewer$v.stats" "$URI" &
	JOBS="$JOBS $!"
done

t=0
while [ $t -lt "$DURATION" ]; do
	sleep 1
	t=$((t + 1))
	if [ $((t % 5)) -eq 0 ]; then
		line="demo: ${t}s"
		for v in 1 2 3; do
			line="$line  viewer$v delay $(field "$D/viewer$v.stats" delay_p50)s/$(field "$D/viewer$v.stats" delay_p99)s skipped $(field "$D/viewer$v.stats" skipped)"
		done
		echo "$line"
	fi
done
echo
summary
echo "demo: delay = stdout write time minus the publisher's stamp (p50/p99 of the last second; 'p99 all' over the whole run)"
