#!/bin/sh
# Peer exchange poisoning: an attacker, a seed of eight honest viewers
# (four under sanitizers), floods each with PEX messages of 32 addresses:
# the viewer's own address and addresses where nobody listens.  A viewer
# keeps at most 256 candidates, forgets those that fail, recognises itself,
# and drops and bans a peer that sends PEX faster than one per 5 s; it
# keeps decoding with continuity >= 99% and bounded memory.  (The flood is
# banned after its fourth message: some 1,000 addresses reach the eight
# viewers in all.)
. "$(dirname "$0")/lib.sh"

nv=8
[ -z "${P2PL_SANITIZED:-}" ] || nv=4
camera cam
publish cam cam.key
attacker pex pex 127.0.0.2 "$URI" -t 60
honest_viewers $nv "$URI&peer=127.0.0.2:$ATT_PORT"
sleep 15
honest_stop
[ "$(att_count pex attacks)" -ge $((nv * 100)) ] ||
    fail "fewer than $((nv * 100)) poisoned addresses sent: $(cat "$T/pex.att")"
att_banned $nv pex
for v in $(seq 1 $nv); do
	decodes "$T/v$v.out"
	c=$(continuity "$T/v$v.stats")
	note "viewer v$v: continuity $c/10000, peers $(last_stat "$T/v$v.stats" peers)"
	[ "$c" -ge 9900 ] || fail "viewer v$v: continuity $c/10000"
	grep -q "peer exchange flood; dropped" "$T/v$v.err" ||
	    fail "viewer v$v did not drop the flooder: $(cat "$T/v$v.err")"
done
