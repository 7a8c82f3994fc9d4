#!/bin/sh
# A third of 30 viewers killed with SIGKILL mid-stream: the others keep
# playing, and what they write decodes without an error.  (Pieces they had
# to skip are reported, not failed on: a skip resumes cleanly at a join
# point, and the benchmark is where skips are measured.)
. "$(dirname "$0")/lib.sh"
N=${N:-$([ -n "${P2PL_SANITIZED:-}" ] && echo 15 || echo 30)}

camera cam
publish cam cam.key -u 2x
i=1
while [ $i -le $N ]; do
	viewer v$i -u 1.5x "$URI"
	eval "v${i}_pid=\$VIEWER_PID"
	sleep 0.1
	i=$((i + 1))
done
sleep 6
# kill every third viewer at once
i=3
while [ $i -le $N ]; do
	eval "kill -9 \$v${i}_pid"
	i=$((i + 3))
done
i=1
while [ $i -le $N ]; do
	[ $((i % 3)) -eq 0 ] || eval "before_$i=\$(size_of \"\$T/v$i.out\")"
	i=$((i + 1))
done
sleep 8
i=1
skipped=0
while [ $i -le $N ]; do
	if [ $((i % 3)) -ne 0 ]; then
		eval "stop \$v${i}_pid"
		eval "b=\$before_$i"
		[ "$(size_of "$T/v$i.out")" -gt $((b + 200000)) ] ||
		    fail "v$i stopped playing after the kill"
		decodes "$T/v$i.out"
		skipped=$((skipped + $(last_stat "$T/v$i.stats" skipped)))
	fi
	i=$((i + 1))
done
note "$((N - N / 3)) survivors of $((N / 3)) SIGKILLs kept decoding; they skipped $skipped pieces in all"
