#!/bin/sh
# The publisher's input stalls for 10 s (its ffmpeg is stopped with
# SIGSTOP), then resumes.  Three viewers stay attached through the stall
# (keepalives hold their connections, no timeout drops them), resume on
# their own when pieces flow again, and all they wrote decodes.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
pids=
for v in v1 v2 v3; do
	viewer $v "$URI"
	pids="$pids $VIEWER_PID"
done
grown() { [ "$(size_of "$T/$1.out")" -gt "$2" ]; }
for v in v1 v2 v3; do
	wait_for 15 grown $v 100000 || fail "$v got nothing: $(cat "$T/$v.err")"
done
kill -STOP $CAMERA_PID
sleep 10
for v in v1 v2 v3; do
	eval "b_$v=\$(size_of \"\$T/\$v.out\")"
	[ "$(last_stat "$T/$v.stats" peers)" -ge 1 ] ||
	    fail "$v lost its peers during the stall: $(cat "$T/$v.err")"
done
kill -CONT $CAMERA_PID
for v in v1 v2 v3; do
	eval "wait_for 15 grown $v \$((b_$v + 100000))" ||
	    fail "$v did not resume: $(cat "$T/$v.err")"
done
for p in $pids; do kill -0 $p || fail "a viewer died"; done
for p in $pids; do stop $p; done
for v in v1 v2 v3; do
	! grep -q "timed out" "$T/$v.err" || fail "$v timed out: $(cat "$T/$v.err")"
	decodes "$T/$v.out"
	note "$v: $(size_of "$T/$v.out") bytes across a 10 s stall, all decode"
done
