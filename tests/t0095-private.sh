#!/bin/sh
# A private stream: the publisher's URI carries a secret that encrypts
# the content.  A relay that knows only the public URI carries and checks
# the pieces; a viewer whose URI has the secret and names only that relay
# decodes; a viewer with the public URI plays nothing, and the verified
# frames it can write hold no stretch of the media in clear.  The secret
# shows up in no log.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key --private
case $URI in *"&secret="[a-z2-7]*) ;; *) fail "no secret in $URI" ;; esac
secret=${URI##*secret=}
public=${URI%%&secret=*}
rp=$(free_port)
p2pl-relay -l "127.0.0.1:$rp" --stats "$T/relay.stats" "$public" \
    >"$T/relay.out" 2>"$T/relay.err" &
PIDS="$PIDS $!"
sleep 1
viewer s "p2pl:$(key_of "$URI")?peer=127.0.0.1:$rp&secret=$secret"
s_pid=$VIEWER_PID
viewer p --frames "$public"
p_pid=$VIEWER_PID
sleep 6
stop $s_pid
stop $p_pid
decodes "$T/s.out"
[ "$(last_stat "$T/relay.stats" up_bytes)" -gt 0 ] || fail "the relay carried nothing"
[ "$(last_stat "$T/relay.stats" bad)" -eq 0 ] || fail "the relay rejected pieces"
python3 - "$T/p.out" "$T/s.out" <<'PY' || fail "media in clear in a public viewer's frames"
import sys
frames, media = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
assert len(frames) > 100000 and len(media) > 100000, (len(frames), len(media))
for i in range(0, len(media) - 32, 499):
    assert media[i:i + 32] not in frames, "media at %d" % i
PY
viewer q --timeout 20 "$public"
q_pid=$VIEWER_PID
sleep 4
stop $q_pid
[ ! -s "$T/q.out" ] || fail "a viewer without the secret wrote $(size_of "$T/q.out") bytes"
grep -q "private" "$T/q.err" || fail "the viewer without the secret said nothing"
if grep -l "$secret" "$T"/*.err "$T/relay.out" "$T"/*.stats 2>/dev/null; then
	fail "the secret is in a log"
fi
note "private stream: relay carried $(last_stat "$T/relay.stats" up_bytes) bytes without the secret; only the viewer with it decodes"
