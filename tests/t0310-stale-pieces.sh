#!/bin/sh
# Genuine pieces, sent to do harm: one attacker replays the newest pieces
# over and over, another sends pieces older than any window.  Both are
# seeds of eight honest viewers (four under sanitizers).  Replays are
# dropped as duplicates before any signature check, stale pieces never
# reach the player; both attackers collect misbehaviour points until each
# viewer drops and bans them, and are refused when they come back.  The
# viewers keep decoding with continuity >= 99%.
. "$(dirname "$0")/lib.sh"

nv=8
[ -z "${P2PL_SANITIZED:-}" ] || nv=4
camera cam
publish cam cam.key
# the old-piece attacker needs pieces older than the window (5 s) first
attacker old old 127.0.0.3 "$URI" -t 60
old_port=$ATT_PORT
sleep 6
attacker replay replay 127.0.0.2 "$URI" -t 60
seeds="&peer=127.0.0.2:$ATT_PORT&peer=127.0.0.3:$old_port"
honest_viewers $nv "$URI$seeds"
sleep 15
honest_stop
att_banned $nv replay old
for v in $(seq 1 $nv); do
	decodes "$T/v$v.out"
	c=$(continuity "$T/v$v.stats")
	note "viewer v$v: continuity $c/10000, dups $(last_stat "$T/v$v.stats" dups), banned $(last_stat "$T/v$v.stats" banned)"
	[ "$c" -ge 9900 ] || fail "viewer v$v: continuity $c/10000"
	grep -q "replays pieces; dropped" "$T/v$v.err" ||
	    fail "viewer v$v did not drop the replayer: $(cat "$T/v$v.err")"
	grep -Eq "(stale pieces|out of the window); dropped" "$T/v$v.err" ||
	    fail "viewer v$v did not drop the stale sender: $(cat "$T/v$v.err")"
	if grep "dropped" "$T/v$v.err" | grep -q "127\.0\.0\.1:"; then
		fail "viewer v$v dropped an honest peer: $(grep dropped "$T/v$v.err")"
	fi
done
