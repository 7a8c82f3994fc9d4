#!/bin/sh
# A viewer that joins 5 s into the stream starts at a join point and
# decodes from its very first byte.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
sleep 5
viewer late "$URI"
sleep 4
stop $VIEWER_PID
decodes "$T/late.out"
# the first bytes are a PAT: a TS packet on PID 0 starting a section
python3 - "$T/late.out" <<'PY' || fail "output does not start with a PAT"
import sys
d = open(sys.argv[1], 'rb').read(188)
pid = ((d[1] & 0x1f) << 8) | d[2]
sys.exit(0 if d[0] == 0x47 and pid == 0 and d[1] & 0x40 else 1)
PY
startup=$(last_stat "$T/late.stats" startup)
note "late viewer: startup $startup s, $(last_stat "$T/late.stats" pieces) pieces"
[ "$(last_stat "$T/late.stats" skipped)" -eq 0 ] || fail "late viewer skipped pieces"
