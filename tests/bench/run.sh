#!/bin/sh
# tests/bench/run.sh [quick] - what `make bench` (and `make bench-quick`)
# runs: real swarms on loopback (tests/bench/real.sh) and the simulator
# (p2pl-sim) at growing audience sizes.  Each run writes one JSON object to
# build/bench/NAME.json (quick: build/bench-quick/), its command to
# NAME.cmd; then tests/bench/table.py prints the table and
# gnuplot draws bench.svg there.  A full run (not quick) also writes the
# table into doc/BENCH.md, between its markers, and the plot to
# doc/bench.svg.  With KEEP=1 a run whose JSON is
# already there is not run again; ONLY=real or ONLY=sim runs one kind;
# BIGT=S simulates S seconds instead of 60 for the 100,000-node runs.
# Figures, not a test.
set -eu
cd "$(dirname "$0")/../.."
SIM=build/tools/p2pl-sim
SIMSMALL=build/tools/p2pl-sim-small
quick=0
[ "${1:-}" = quick ] && quick=1
OUT=build/bench
[ $quick = 1 ] && OUT=build/bench-quick
mkdir -p "$OUT"

if [ $quick = 1 ]; then
	REAL="10 30" BASE="10" RT=15 AGREE=30 VARY=10
	SIMN="100 1000" NET="1000" ST=20 SEEDS=1
else
	REAL="10 100 200 500" BASE="10 100 250" RT=40 AGREE=200 VARY=100
	SIMN="1000 10000 100000" NET="1000 10000 100000" ST=60 SEEDS="1 2 3"
fi
# run NAME CMD...: unless KEEP=1 and NAME.json exists, or ONLY=real|sim
# names the other kind
run() {
	name=$1
	shift
	case ${ONLY:-}:$name in
	real:sim-*|sim:real-*) return 0 ;;
	esac
	if [ "${KEEP:-0}" = 1 ] && [ -s "$OUT/$name.json" ]; then
		echo "bench: $name: kept from an earlier run" >&2
		return 0
	fi
	echo "bench: $name: $*" >&2
	if "$@" >"$OUT/$name.json.tmp" 2>"$OUT/$name.log"; then
		tail -n 1 "$OUT/$name.json.tmp" >"$OUT/$name.json"
		rm -f "$OUT/$name.json.tmp"
		printf '%s\n' "$*" >"$OUT/$name.cmd"
	else
		echo "bench: $name failed: $(tail -n 3 "$OUT/$name.log")" >&2
		rm -f "$OUT/$name.json.tmp"
	fi
}

# the simulator's loopback model (the real runs' conditions: opentracker
# answers 50 members; the publisher at 1.5x as in real.sh), and an
# internet-like one: 10-100 ms links, 30% of the viewers at 0.5x (1.2x on
# average), a 2.5 s playout latency
LO="--latency 0:0.5 --link 1G --tracker 50 -P 1.5"
NETM="--latency 10:100 --link 100M --slow 0.3:0.5 --tracker 50 -P 1.5 --play-latency 2.5"

for n in $REAL; do
	run "real-$n" sh tests/bench/real.sh -n "$n" -t "$RT"
done
run "real-$VARY-d50" sh tests/bench/real.sh -n "$VARY" -t "$RT" -D 50
run "real-$AGREE-d50" sh tests/bench/real.sh -n "$AGREE" -t "$RT" -D 50
run "real-$VARY-churn" sh tests/bench/real.sh -n "$VARY" -t "$RT" \
    -c "$((VARY / 10)):10"
run "real-$VARY-slow" sh tests/bench/real.sh -n "$VARY" -t "$RT" -s 0.3:0.5
run "real-$VARY-relays" sh tests/bench/real.sh -n "$VARY" -t "$RT" -R 2
for n in $BASE; do
	run "real-$n-base" sh tests/bench/real.sh -b -n "$n" -t "$RT"
done
# where both run: the simulator as the real swarm, joins 20 ms apart
for s in $SEEDS; do
	run "sim-$AGREE-lo-s$s" "$SIM" -n "$AGREE" -t "$((RT + 5))" \
	    -j "$(echo "$AGREE * 0.02" | bc)" $LO --seed "$s"
	run "sim-$AGREE-d50-s$s" "$SIM" -n "$AGREE" -t "$((RT + 5))" \
	    -j "$(echo "$AGREE * 0.02" | bc)" --latency 50:50 --link 1G --tracker 50 \
	    -P 1.5 --seed "$s"
done
# and as the real swarm measured it: one-way latencies uniform from 0 to the
# real run's median round trip (so their mean is its half), which is
# loopback plus the time 200 processes wait for one of 2 cores
cal=$(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print("%.2f" % (1e3 * r["rtt_p50"]) if r.get("rtt_p50") else "")' \
    "$OUT/real-$AGREE.json" 2>/dev/null || true)
if [ -n "$cal" ]; then
	for s in $SEEDS; do
		run "sim-$AGREE-cal-s$s" "$SIM" -n "$AGREE" -t "$((RT + 5))" \
		    -j "$(echo "$AGREE * 0.02" | bc)" --latency "0:$cal" --link 1G \
		    --tracker 50 -P 1.5 --seed "$s"
	done
fi
# 100,000 nodes: the compact build
for n in $SIMN; do
	sim=$SIM t=$ST
	if [ "$n" -gt 20000 ]; then sim=$SIMSMALL t=${BIGT:-$ST}; fi
	run "sim-$n-lo" "$sim" -n "$n" -t "$t" $LO
done
for n in $NET; do
	sim=$SIM t=$ST
	if [ "$n" -gt 20000 ]; then sim=$SIMSMALL t=${BIGT:-$ST}; fi
	run "sim-$n-net" "$sim" -n "$n" -t "$t" $NETM
done
doc=
[ $quick = 1 ] || doc=doc/BENCH.md
python3 tests/bench/table.py "$OUT" $doc
[ -z "$doc" ] || echo "bench: table written into $doc" >&2
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot -e "dir='$OUT'" tests/bench/plot.gp &&
	    echo "bench: plot in $OUT/bench.svg" >&2
	[ -z "$doc" ] || cp "$OUT/bench.svg" doc/bench.svg
fi
