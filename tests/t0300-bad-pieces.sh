#!/bin/sh
# Pieces that fail the check: a forged one (a flipped payload byte), one
# validly signed by another key, a truncated one and a message four times
# the largest allowed.  Four attackers, each on its own loopback address,
# are seeds of eight honest viewers (four under sanitizers), so every
# viewer meets all four among its first neighbours.  Each viewer drops and
# bans each attacker at its first bad piece, refuses it when it comes back,
# keeps decoding with continuity >= 99%, and no forged byte reaches its
# stdout; the viewers never blame one another, so nothing bad was passed
# on.
. "$(dirname "$0")/lib.sh"

nv=8
[ -z "${P2PL_SANITIZED:-}" ] || nv=4
camera cam
publish cam cam.key
attackers "$URI" forge otherkey truncate oversize
honest_viewers $nv "$URI$SEEDS"
sleep 15
honest_stop
att_banned $nv forge otherkey truncate oversize
for v in $(seq 1 $nv); do
	decodes "$T/v$v.out"
	c=$(continuity "$T/v$v.stats")
	note "viewer v$v: continuity $c/10000, bad $(last_stat "$T/v$v.stats" bad), banned $(last_stat "$T/v$v.stats" banned)"
	[ "$c" -ge 9900 ] || fail "viewer v$v: continuity $c/10000"
	[ "$(last_stat "$T/v$v.stats" banned)" -ge 4 ] ||
	    fail "viewer v$v banned fewer than 4: $(cat "$T/v$v.err")"
	# only attackers were blamed: nothing bad came from an honest peer
	if grep "dropped" "$T/v$v.err" | grep -q "127\.0\.0\.1:"; then
		fail "viewer v$v dropped an honest peer: $(grep dropped "$T/v$v.err")"
	fi
done
python3 - "$T" $nv <<'PY'
import glob, sys
t, nv = sys.argv[1], int(sys.argv[2])
forged = [open(f, 'rb').read() for f in glob.glob(t + '/forged.*')]
if not forged:
    sys.exit("FAIL: no forged payload was saved")
total = 0
for v in range(1, nv + 1):
    out = open('%s/v%d.out' % (t, v), 'rb').read()
    total += len(out)
    for f in forged:
        if f in out:
            sys.exit("FAIL: a forged payload reached v%d's stdout" % v)
print("# %d forged payloads, none in %d bytes of output" % (len(forged), total),
    file=sys.stderr)
PY
