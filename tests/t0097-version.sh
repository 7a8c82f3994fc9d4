#!/bin/sh
# -V and --version: every program prints "p2pl-NAME VERSION" on stdout,
# VERSION being the Makefile's, and exits 0 with nothing on stderr.
. "$(dirname "$0")/lib.sh"

want=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$(dirname "$0")/.." version)
case $want in
[0-9]*.[0-9]*) ;;
*) fail "make version said '$want'" ;;
esac
for p in p2pl-publish p2pl-fetch p2pl-relay p2pl-top; do
	for opt in -V --version; do
		rc=0
		"$p" $opt >"$T/out" 2>"$T/err" </dev/null || rc=$?
		[ $rc -eq 0 ] || fail "$p $opt exited $rc: $(cat "$T/err")"
		[ "$(cat "$T/out")" = "$p $want" ] ||
		    fail "$p $opt printed '$(cat "$T/out")', want '$p $want'"
		[ ! -s "$T/err" ] || fail "$p $opt wrote to stderr: $(cat "$T/err")"
	done
done
note "version $want"
