#!/bin/sh
# tests/run.sh - run every test: the unit programs and the shell tests
# against the real binaries, first with the normal build, then with the
# AddressSanitizer + UndefinedBehaviorSanitizer build (P2PL_SANITIZED=1:
# the swarm tests run half as many viewers, as sanitized processes are
# several times slower on two cores); then a short run of every fuzz target
# over its corpus.  Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
pass=0
fail=0
failed=
logs=$(mktemp -d "${TMPDIR:-/tmp}/p2pl-check.XXXXXX")

run() {
	name=$1
	shift
	log="$logs/$(echo "$name" | tr '/ ' '__').log"
	start=$(date +%s)
	if "$@" >"$log" 2>&1; then
		pass=$((pass + 1))
		echo "ok   $name ($(($(date +%s) - start)) s)"
		grep '^# ' "$log" | sed 's/^/     /' || true
	else
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL $name"
		tail -n 40 "$log" | sed 's/^/     | /'
	fi
}

for build in build build-asan; do
	[ -d "$build/bin" ] || continue
	for u in "$build"/unit/*; do
		run "$build unit/${u##*/}" "$u"
	done
	for t in tests/t[0-9]*.sh; do
		run "$build ${t#tests/}" env P2PL_BIN="$PWD/$build/bin" \
		    P2PL_SANITIZED=$([ "$build" = build-asan ] && echo 1) sh "$t"
	done
done
if [ -d build/fuzz ]; then
	run "fuzz (${FUZZ_SECONDS:-10} s a target)" sh tests/fuzz/run.sh build/fuzz \
	    "${FUZZ_SECONDS:-10}" --quick
fi
rm -rf "$logs"
[ -z "$failed" ] || echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
