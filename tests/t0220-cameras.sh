#!/bin/sh
# contrib/cameras.sh publishes every camera of a list: two HTTP cameras
# give two URIs (own key, own port), a viewer of one decodes it; a
# publisher that dies is restarted with the same URI and the viewer
# resumes, its whole output decoding with timestamps that never go back;
# SIGTERM stops everything; a bad list is refused.
. "$(dirname "$0")/lib.sh"
CAMS=$(cd "$(dirname "$0")/.." && pwd)/contrib/cameras.sh

p1=$(free_port) p2=$(free_port)
http_camera front "$p1"
front_cam=$CAMERA_PID
http_camera back "$p2"
pa=$(free_port) pb=$(free_port)
cat >"$T/list" <<LIST
# name url port
front http://127.0.0.1:$p1 $pa

back  http://127.0.0.1:$p2 $pb
LIST
sh "$CAMS" -d "$T/state" -l 127.0.0.1 "$T/list" >"$T/cams.out" \
    2>"$T/cams.err" &
CAMS_PID=$!
PIDS="$PIDS $CAMS_PID"
two() { [ "$(grep -c . "$T/cams.out")" -eq 2 ]; }
wait_for 15 two || fail "no two URIs: $(cat "$T/cams.out" "$T/cams.err")"
front=$(sed -n 's/^front //p' "$T/cams.out")
back=$(sed -n 's/^back //p' "$T/cams.out")
case $front in p2pl:*"peer=127.0.0.1:$pa") ;; *) fail "front: '$front'" ;; esac
case $back in p2pl:*"peer=127.0.0.1:$pb") ;; *) fail "back: '$back'" ;; esac
[ "${front%%\?*}" != "${back%%\?*}" ] || fail "both cameras have one key"
[ "$(stat -c %a "$T/state/front.key")" = 600 ] || fail "key not 0600"

viewer v "$front"
grown() { [ "$(size_of "$T/v.out")" -gt $(($1 + 60000)) ]; }
wait_for 15 grown 0 || fail "viewer got nothing: $(cat "$T/v.err" "$T/state/front.log")"

# the front publisher dies (and its camera, which served only it)
pub=$(pgrep -f -- "-k $T/state/front.key") || fail "no front publisher"
kill -9 $pub $front_cam
before=$(size_of "$T/v.out")
wait_for 10 grep -q "front: p2pl-publish exited 137" "$T/cams.err" ||
    fail "no word of the restart: $(cat "$T/cams.err")"
http_camera front "$p1"
wait_for 20 grown "$before" ||
    fail "viewer did not resume: $(cat "$T/v.err" "$T/cams.err" "$T/state/front.log")"
pub2=$(pgrep -f -- "-k $T/state/front.key") || fail "front not restarted"
[ "$pub2" != "$pub" ] || fail "front publisher is the old one"
[ "$(grep -c . "$T/cams.out")" -eq 2 ] || fail "the URI changed: $(cat "$T/cams.out")"
stop $VIEWER_PID
# the restarted publisher's timestamps follow the wall clock: the whole
# output decodes and its timestamps never go back
decodes "$T/v.out"
dts_monotonic "$T/v.out" || fail "timestamps go back across the restart"

# SIGTERM stops the script and both publishers
kill -TERM $CAMS_PID
rc=0
wait $CAMS_PID || rc=$?
[ $rc -eq 0 ] || fail "cameras.sh exited $rc: $(cat "$T/cams.err")"
gone() { ! pgrep -f -- "-k $T/state/" >/dev/null; }
wait_for 5 gone || fail "publishers left running"

# a bad list: nothing starts, status 2
printf 'ok http://127.0.0.1:1\nbad/name http://127.0.0.1:1\n' >"$T/bad"
rc=0
sh "$CAMS" -d "$T/state2" "$T/bad" >/dev/null 2>"$T/bad.err" || rc=$?
[ $rc -eq 2 ] && grep -q "bad camera name 'bad/name'" "$T/bad.err" ||
    fail "bad list: exit $rc: $(cat "$T/bad.err")"
note "$(cat "$T/cams.err" | tr '\n' ' ')"
