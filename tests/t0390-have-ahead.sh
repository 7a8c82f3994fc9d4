#!/bin/sh
# A lying peer: it dials each of three viewers (two under sanitizers)
# that know only the publisher, completes the handshake and sends one
# batch of 64 HAVEs for the pieces just after the newest, which do not
# exist yet.  Requests for them go unanswered; the publisher, which never
# said it holds them, must not pay for that: no viewer drops or bans it,
# every viewer keeps playing (as many pieces after the attack as the
# publisher made, less a few, with continuity >= 99%), and the liar is the
# one dropped, once those pieces come stamped later than its claim.
. "$(dirname "$0")/lib.sh"

nv=3
[ -z "${P2PL_SANITIZED:-}" ] || nv=2
camera cam
publish cam cam.key
pub_port=${URI##*:}
honest_viewers $nv "$URI"
targets=
for v in $(seq 1 $nv); do
	wait_for 20 plays "$T/v$v.stats" 20 ||
	    fail "viewer v$v does not play: $(cat "$T/v$v.err")"
	targets="$targets -c 127.0.0.1:$(stat_num "$T/v$v.stats" listen)"
done
made0=$(stat_num "$T/cam.pub.stats" pieces)
for v in $(seq 1 $nv); do
	eval "p0_$v=$(stat_num "$T/v$v.stats" pieces)"
	eval "s0_$v=$(stat_num "$T/v$v.stats" skipped)"
done
# shellcheck disable=SC2086
attacker ahead ahead 127.0.0.2 "$URI" -t 60 $targets
sleep 12
made=$(($(stat_num "$T/cam.pub.stats" pieces) - made0))
note "publisher: $made pieces made since the attack"
[ "$made" -gt 50 ] || fail "the publisher made only $made pieces"
honest_stop
att_banned $nv ahead
for v in $(seq 1 $nv); do
	decodes "$T/v$v.out"
	eval "p=\$((\$(last_stat "$T/v$v.stats" pieces) - p0_$v))"
	eval "s=\$((\$(last_stat "$T/v$v.stats" skipped) - s0_$v))"
	note "viewer v$v: $p pieces played and $s skipped since the attack"
	[ "$p" -ge $((made - 20)) ] ||
	    fail "viewer v$v stopped playing: $p of $made pieces: $(cat "$T/v$v.err")"
	[ $((p * 10000 / (p + s))) -ge 9900 ] ||
	    fail "viewer v$v: $s of $((p + s)) pieces skipped since the attack"
	if grep -E "dropped|banned" "$T/v$v.err" | grep -q "127\.0\.0\.1:$pub_port"; then
		fail "viewer v$v dropped its publisher: $(cat "$T/v$v.err")"
	fi
	grep -q "claims pieces before they exist" "$T/v$v.err" ||
	    fail "viewer v$v did not blame the liar: $(cat "$T/v$v.err")"
done
