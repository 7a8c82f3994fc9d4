#!/bin/sh
# p2pl-fetch --relay-only keeps a viewer's address from other viewers: it
# plays through the relay and the publisher its URI names, listens on no
# port, and no other viewer ever has it as a neighbour, while ordinary
# viewers mesh with each other.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
rp=$(free_port)
p2pl-relay -l "127.0.0.1:$rp" --stats "$T/relay.stats" "$URI" \
    >"$T/relay.out" 2>"$T/relay.err" &
PIDS="$PIDS $!"
sleep 1
for v in v1 v2 v3; do
	viewer $v "$URI"
	eval "${v}_pid=\$VIEWER_PID"
done
viewer r --relay-only "$URI&peer=127.0.0.1:$rp"
r_pid=$VIEWER_PID
sleep 8
stop $r_pid
for v in v1 v2 v3; do eval "stop \$${v}_pid"; done
decodes "$T/r.out"
[ "$(last_stat "$T/r.stats" listen)" -eq 0 ] || fail "a relay-only viewer listens"
python3 - "$T" <<'PY' || fail "the relay-only viewer was seen by a viewer"
import json, sys
t = sys.argv[1]
def lines(name):
    return [json.loads(l) for l in open("%s/%s.stats" % (t, name))]
r = lines("r")
rid = r[-1]["id"]
roles = {n["role"] for l in r for n in l["neighbours"]}
assert roles <= {"relay", "publisher"} and "relay" in roles, roles
meshed = 0
for v in ("v1", "v2", "v3"):
    for l in lines(v):
        ids = {n["id"] for n in l["neighbours"]}
        assert rid not in ids, "%s had the relay-only viewer %s" % (v, rid)
        meshed += sum(n["role"] == "viewer" for n in l["neighbours"])
assert meshed > 0, "ordinary viewers never met: the check proves nothing"
relay = lines("relay")
assert any(rid in {n["id"] for n in l["neighbours"]} for l in relay), "not at the relay"
print("# relay-only viewer %s: neighbours %s; never among the other viewers'" %
      (rid, sorted(roles)), file=sys.stderr)
PY
rc=0
p2pl-fetch --relay-only -l 0 "$URI" >/dev/null 2>"$T/bad.err" || rc=$?
[ $rc -eq 2 ] || fail "--relay-only with -l: exit $rc, want 2"
