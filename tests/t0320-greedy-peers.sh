#!/bin/sh
# Peers that take and do not give: one claims every piece (and pieces far
# ahead) and serves none, one serves what it is asked a byte at a time
# (slow-loris), one requests every recent piece over and over.  All three
# are seeds of eight honest viewers (four under sanitizers).  Unanswered
# requests, a message that never ends and repeated requests each cost
# points until the viewer drops and bans the peer; the viewers keep
# decoding with continuity >= 99% and their memory stays bounded.
. "$(dirname "$0")/lib.sh"

nv=8
[ -z "${P2PL_SANITIZED:-}" ] || nv=4
camera cam
publish cam cam.key
attackers "$URI" haveall slow reqflood
honest_viewers $nv "$URI$SEEDS"
sleep 20
honest_stop
att_banned $nv haveall slow reqflood
for v in $(seq 1 $nv); do
	decodes "$T/v$v.out"
	c=$(continuity "$T/v$v.stats")
	note "viewer v$v: continuity $c/10000, banned $(last_stat "$T/v$v.stats" banned)"
	[ "$c" -ge 9900 ] || fail "viewer v$v: continuity $c/10000"
	for why in "claims pieces it does not serve" \
	    "message trickled in too slowly" "requests pieces over and over"; do
		grep -q "$why" "$T/v$v.err" ||
		    fail "viewer v$v: no '$why': $(cat "$T/v$v.err")"
	done
	if grep "dropped" "$T/v$v.err" | grep -q "127\.0\.0\.1:"; then
		fail "viewer v$v dropped an honest peer: $(grep dropped "$T/v$v.err")"
	fi
done
