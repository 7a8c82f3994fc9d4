#!/bin/sh
# run.sh - run every libFuzzer target over its seed corpus.
#
#   sh tests/fuzz/run.sh BUILDDIR SECONDS [--quick]
#
# Runs each BUILDDIR/fuzz-* for SECONDS over tests/fuzz/corpus/NAME and
# prints one line per target.  Without --quick, inputs that add coverage
# are merged back into the corpus with -merge=1 (only those, so it stays
# small); with --quick the corpus is used from a temporary copy and the
# source tree is not written.  Crash inputs go to BUILDDIR/artifacts.
# Exits 1 if any target crashed, leaked or hung.
set -eu

prog=run.sh
usage() {
	echo "usage: sh tests/fuzz/run.sh BUILDDIR SECONDS [--quick]" >&2
	exit 2
}

[ $# -ge 2 ] && [ $# -le 3 ] || usage
bdir=$1
secs=$2
quick=0
if [ $# -eq 3 ]; then
	[ "$3" = --quick ] || usage
	quick=1
fi
case $secs in
''|*[!0-9]*) usage ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
artdir=$(mkdir -p "$bdir/artifacts" && cd "$bdir/artifacts" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/p2pl-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# Largest input worth trying, per target.
max_len() {
	case $1 in
	fuzz-uri) echo 4200 ;;
	fuzz-util) echo 512 ;;
	fuzz-key) echo 256 ;;
	fuzz-piece) echo 8192 ;;
	fuzz-wire|fuzz-node) echo 16384 ;;
	fuzz-mediaout) echo 16384 ;;
	fuzz-bencode|fuzz-statparse) echo 16384 ;;
	fuzz-config) echo 8192 ;;
	fuzz-http) echo 10000 ;;
	fuzz-source) echo 32768 ;;
	*) echo 4096 ;;
	esac
}

found=0
failed=0
for bin in "$bdir"/fuzz-*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=$(basename "$bin")
	found=$((found + 1))
	corpus=$here/corpus/$name
	mkdir -p "$tmp/$name.new" "$tmp/$name.seed"
	if [ -d "$corpus" ]; then
		cp -R "$corpus"/. "$tmp/$name.seed"/
	fi
	log=$tmp/$name.log
	len=$(max_len "$name")
	# new inputs land in the first directory, never in the source tree
	rc=0
	"$bin" -max_total_time="$secs" -max_len="$len" -timeout=10 \
	    -print_final_stats=1 -artifact_prefix="$artdir/$name-" \
	    "$tmp/$name.new" "$tmp/$name.seed" >"$log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	if [ "$rc" -ne 0 ]; then
		failed=$((failed + 1))
		what=$(grep -m 1 -E '^==[0-9]+==ERROR|^SUMMARY|ALARM|deadly signal|out-of-memory' "$log" || true)
		echo "$name: ${runs:-?} runs, FAILED (exit $rc): ${what:-see log}"
		tail -n 40 "$log" | sed "s/^/$name: /" >&2
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
		    tail -n 1)
		echo "$name: input saved to ${art:-(none)};" \
		    "reproduce with: $bin ${art:-FILE}"
		continue
	fi
	echo "$name: ${runs:-?} runs, no crash"
	if [ "$quick" -eq 0 ] && [ -n "$(ls -A "$tmp/$name.new")" ]; then
		mkdir -p "$corpus"
		before=$(ls "$corpus" | wc -l)
		"$bin" -merge=1 -max_len="$len" -timeout=10 \
		    -artifact_prefix="$artdir/$name-" \
		    "$corpus" "$tmp/$name.new" >"$tmp/$name.merge" 2>&1 || {
			echo "$prog: $name: merge failed" >&2
			tail -n 20 "$tmp/$name.merge" >&2
			failed=$((failed + 1))
			continue
		}
		after=$(ls "$corpus" | wc -l)
		echo "$name: corpus $before -> $after inputs"
	fi
done

if [ "$found" -eq 0 ]; then
	echo "$prog: no fuzz-* targets in $bdir (run make fuzz-build)" >&2
	exit 1
fi
if [ "$failed" -ne 0 ]; then
	echo "$prog: $failed of $found targets failed" >&2
	exit 1
fi
exit 0
