#!/bin/sh
# make install DESTDIR=... PREFIX=/usr lays out the programs, every man
# page, the bash and zsh completions, the mpv script and the docs; the
# installed pages are lint-clean (mandoc -T lint) and render with man -l
# without a warning; the installed programs and completion work; make
# uninstall removes every file it put.
. "$(dirname "$0")/lib.sh"

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(basename "$(dirname "$P2PL_BIN")")	# build or build-asan
x=$T/x
# the programs of the build under test, as they are (-o all: not rebuilt)
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory \
	    -C "$root" -o all BUILD="$build" DESTDIR="$x" PREFIX=/usr "$@"
}

mk install >"$T/install.log" 2>&1 || fail "make install: $(cat "$T/install.log")"
for p in p2pl-publish p2pl-fetch p2pl-relay p2pl-top; do
	[ -x "$x/usr/bin/$p" ] || fail "no $p in bin/"
	cmp -s "$x/usr/bin/$p" "$P2PL_BIN/$p" || fail "bin/$p is not the build's"
	"$x/usr/bin/$p" -V >"$T/v" 2>&1 || fail "installed $p -V: $(cat "$T/v")"
	[ -f "$x/usr/share/bash-completion/completions/$p" ] ||
	    fail "no bash completion for $p"
	bash -c ". '$x/usr/share/bash-completion/completions/$p'; complete -p $p" \
	    >/dev/null 2>&1 || fail "installed bash completion defines none for $p"
done
[ -f "$x/usr/share/zsh/site-functions/_p2pl" ] || fail "no zsh completion"
[ -f "$x/usr/share/p2pl/mpv/p2pl.lua" ] || fail "no mpv script"
[ -f "$x/usr/share/doc/p2pl/README.md" ] || fail "no README"
[ -f "$x/usr/share/doc/p2pl/config.example" ] || fail "no config example"

# every page of man/ is installed in its section, lint-clean, and renders
n=0
for src in "$root"/man/*.[1-9]; do
	page=${src##*/}
	inst=$x/usr/share/man/man${page##*.}/$page
	[ -f "$inst" ] || fail "man page $page not installed as $inst"
	# notes that a referenced page is not in this machine's database
	# are not about the page
	mandoc -T lint "$inst" 2>&1 | grep -v -e 'referenced manual not found' \
	    -e 'outdated mandoc.db' >"$T/lint" || true
	[ ! -s "$T/lint" ] || fail "mandoc -T lint $page: $(cat "$T/lint")"
	MANWIDTH=80 man --warnings -l "$inst" >"$T/page" 2>"$T/man.err" ||
	    fail "man -l $page failed: $(cat "$T/man.err")"
	[ ! -s "$T/man.err" ] || fail "man -l $page warns: $(cat "$T/man.err")"
	grep -q '^NAME' "$T/page" || fail "man -l $page rendered no NAME"
	n=$((n + 1))
done
[ $n -ge 5 ] || fail "only $n man pages"
# the sample config file is one the programs accept
p2pl-fetch --config "$x/usr/share/doc/p2pl/config.example" -V >/dev/null ||
    fail "config.example refused"

mk uninstall >"$T/uninstall.log" 2>&1 || fail "make uninstall: $(cat "$T/uninstall.log")"
left=$(find "$x" ! -type d)
[ -z "$left" ] || fail "left after make uninstall: $left"
[ ! -e "$x/usr/share/p2pl" ] || fail "share/p2pl left"
note "installed and removed $n man pages, 4 programs, completions, mpv script"
