#!/bin/sh
# The simulator runs the protocol core for a publisher and 200 viewers for
# 8 simulated seconds.  The publisher may upload only 2x the stream, so
# the stream reaching all 200 viewers means the viewers forwarded it: each
# viewer must have started, and the swarm as a whole must have played at
# least 90% of the pieces made after it joined, with the publisher's
# upload within its cap.  A second run with the same seed must give the
# same figures (the simulator replaces the core's randomness with a
# seeded one), so benchmark rows can be reproduced.  Simulated time, not
# wall-clock time, is checked.
. "$(dirname "$0")/lib.sh"
SIM=$TOOLS/p2pl-sim
[ -x "$SIM" ] || fail "$SIM not built"

args="-n 200 -t 8 -j 2 -P 2 -u 1.5 --latency 0:0.5 --link 1G --tracker 20 --seed 7"
# shellcheck disable=SC2086
"$SIM" $args >"$T/a.json" 2>"$T/a.err" || fail "p2pl-sim: $(cat "$T/a.err")"
# shellcheck disable=SC2086
"$SIM" $args >"$T/b.json" 2>"$T/b.err" || fail "p2pl-sim: $(cat "$T/b.err")"

python3 - "$T/a.json" "$T/b.json" <<'PY' >&2
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
print("# 200 simulated viewers: started %d, played %d, skipped %d, "
      "continuity %.4f, delay p50 %.3f p99 %.3f s, publisher %.2fx"
      % (a["started"], a["played"], a["skipped"], a["continuity"],
         a["delay_p50"], a["delay_p99"], a["publisher_ratio"]))
errors = []
if a["started"] != 200:
    errors.append("only %d of 200 viewers started" % a["started"])
# viewers join within the first 2.1 s of 8: each can play at least the
# pieces of its last 5.9 s, 20 a second, from a join point at most 1 s back
floor = 200 * 5.9 * 20 * 0.9
if a["played"] < floor:
    errors.append("the swarm played %d pieces, fewer than %d" % (a["played"], floor))
if a["continuity"] < 0.99:
    errors.append("continuity %.4f below 0.99" % a["continuity"])
if a["publisher_ratio"] > 2.1:
    errors.append("publisher sent %.2fx, above its 2x cap" % a["publisher_ratio"])
skip = ("wall_s", "rss_mib")
if {k: v for k, v in a.items() if k not in skip} != \
   {k: v for k, v in b.items() if k not in skip}:
    errors.append("two runs with one seed differ")
for e in errors:
    print("FAIL: " + e)
sys.exit(1 if errors else 0)
PY
