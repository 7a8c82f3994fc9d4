#!/bin/sh
# tests/bench/run.sh [quick] - what `make bench` (and `make bench-quick`)
# runs: real swarms on loopback (tests/bench/real.sh) and the simulator
# (p2pl-sim) at growing audience sizes.  Each run writes one JSON object to
# build/bench/NAME.json (quick: build/bench-quick/), its command to
# NAME.cmd; then tests/bench/table.py prints the table and
# gnuplot draws bench.svg there.  With KEEP=1 a run whose JSON is
# already there is not run again; ONLY=real or ONLY=sim runs one kind.
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
	REAL="10 30" BASE="10" RT=15
	SIMN="100 1000" NET="1000" ST=20
else
	REAL="10 30 100 300 500" BASE="10 100" RT=40
	SIMN="100 1000 10000 100000" NET="1000 10000" ST=60
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

for n in $REAL; do
	run "real-$n" sh tests/bench/real.sh -n "$n" -t "$RT"
done
for n in $BASE; do
	run "real-$n-base" sh tests/bench/real.sh -b -n "$n" -t "$RT"
done
# the loopback model (the real runs' conditions), then an internet-like one
# 100,000 nodes: the compact build (12 GiB), 30 s (about 20 minutes here)
for n in $SIMN; do
	sim=$SIM t=$ST
	if [ "$n" -gt 20000 ]; then sim=$SIMSMALL t=30; fi
	run "sim-$n-lo" "$sim" -n "$n" -t "$t" --latency 0:0.5 --link 1G \
	    --tracker 20
done
for n in $NET; do
	run "sim-$n-net" "$SIM" -n "$n" -t "$ST" --latency 10:100 --link 100M \
	    --slow 0.3:0.5 --tracker 20
done
python3 tests/bench/table.py "$OUT"
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot -e "dir='$OUT'" tests/bench/plot.gp &&
	    echo "bench: plot in $OUT/bench.svg" >&2
fi
