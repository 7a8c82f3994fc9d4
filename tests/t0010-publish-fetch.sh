#!/bin/sh
# Three viewers of one live stream each decode their whole output.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
case $URI in p2pl:*'?peer=127.0.0.1:'*) ;; *) fail "bad uri line: $URI" ;; esac
for v in v1 v2 v3; do
	viewer $v "$URI"
	eval "${v}_pid=\$VIEWER_PID"
done
sleep 8
for v in v1 v2 v3; do
	eval "stop \$${v}_pid"
	decodes "$T/$v.out"
	[ ! -s "$T/$v.err" ] || fail "$v wrote to stderr: $(cat "$T/$v.err")"
	pieces=$(last_stat "$T/$v.stats" pieces)
	skipped=$(last_stat "$T/$v.stats" skipped)
	bad=$(last_stat "$T/$v.stats" bad)
	[ "$pieces" -gt 50 ] || fail "$v played only $pieces pieces"
	[ "$skipped" -eq 0 ] || fail "$v skipped $skipped pieces"
	[ "$bad" -eq 0 ] || fail "$v rejected $bad pieces"
	note "$v: $pieces pieces, delay p50 $(last_stat "$T/$v.stats" delay_p50_all) p99 $(last_stat "$T/$v.stats" delay_p99_all) s"
done
# every viewer saw the same stream: the first viewer's output contains a
# stretch of another's
cmp -s "$T/v1.out" "$T/v2.out" && note "v1 and v2 identical"
python3 - "$T/v1.out" "$T/v3.out" <<'PY' || fail "viewers' outputs differ"
import sys
a = open(sys.argv[1], 'rb').read(); b = open(sys.argv[2], 'rb').read()
mid = b[len(b) // 2: len(b) // 2 + 4096]
sys.exit(0 if mid in a else 1)
PY
