# p2pl — peer-to-peer live streaming.  See README.md.

PREFIX  ?= /usr/local
BUILD   ?= build
CC      ?= cc
CFLAGS  ?= -O2 -g
# the release number; a checkout with tags says where it is (git describe)
GIT_VERSION := $(shell git describe --tags 2>/dev/null | sed 's/^v//')
VERSION  = $(or $(GIT_VERSION),0.1.0)
# flags the code needs, kept apart so CFLAGS=... on the command line adds
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ilib \
    -DP2PL_VERSION_STRING='"$(VERSION)"' $(CFLAGS)
PKGS     = libsodium libevent libavformat libavcodec libavutil libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# only the libraries a program uses end up loaded by it
LDLIBS  += -Wl,--as-needed $(PKG_LIBS) -lpthread -lm

LIB_SRC  = $(wildcard lib/*.c)
LIB_OBJ  = $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
CMDS     = p2pl-publish p2pl-fetch p2pl-relay p2pl-top
BINS     = $(CMDS:%=$(BUILD)/bin/%)
UNIT_SRC = $(wildcard tests/unit/*.c)
UNITS    = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
# test tools; peerio.c, their connection shim, is linked into each
TOOL_SRC = $(filter-out tests/tools/peerio.c,$(wildcard tests/tools/*.c))
TOOLS    = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%) $(BUILD)/tools/p2pl-sim
FUZZ_SRC = $(wildcard tests/fuzz/fuzz-*.c)
FUZZERS  = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 60

.PHONY: all deps check check-asan demo fuzz fuzz-build clean install uninstall \
    version bench bench-quick
.SECONDARY:

all: $(BINS) $(UNITS) $(TOOLS)

deps:
	@sh contrib/install-deps.sh

$(BUILD)/lib/%.o: lib/%.c lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/libp2pl.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

CURSES_CFLAGS := $(shell pkg-config --cflags ncursesw 2>/dev/null)
CURSES_LIBS   := $(shell pkg-config --libs ncursesw 2>/dev/null)
$(BUILD)/bin/p2pl-top: PKG_CFLAGS += $(CURSES_CFLAGS)
$(BUILD)/bin/p2pl-top: LDLIBS += $(CURSES_LIBS)

# a program is cmd/NAME.c, and the cmd/*.c files listed as its prerequisites
$(BUILD)/bin/p2pl-publish: cmd/publish-feed.c
$(BUILD)/bin/p2pl-top: cmd/top-draw.c
$(BUILD)/bin/%: cmd/%.c $(BUILD)/libp2pl.a lib/*.h cmd/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< \
	    $(filter-out $<,$(filter cmd/%.c,$^)) $(BUILD)/libp2pl.a \
	    $(LDFLAGS) $(LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libp2pl.a lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(BUILD)/libp2pl.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c tests/tools/peerio.c tests/tools/peerio.h \
    $(BUILD)/libp2pl.a lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< tests/tools/peerio.c \
	    $(BUILD)/libp2pl.a $(LDFLAGS) $(LDLIBS)

# the swarm simulator: the protocol core on a simulated network
$(BUILD)/tools/p2pl-sim: tests/bench/sim.c $(BUILD)/libp2pl.a lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(BUILD)/libp2pl.a $(LDFLAGS) $(LDLIBS)

# the same, with the core's queues sized for the window only (P2PL_RING,
# QLEN), so 100,000 nodes fit in memory; the sources are the same
SMALL_FLAGS = -DP2PL_RING=256
SMALL_OBJ   = $(LIB_SRC:lib/%.c=$(BUILD)/small/%.o)
$(BUILD)/small/%.o: lib/%.c lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SMALL_FLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/tools/p2pl-sim-small: tests/bench/sim.c $(SMALL_OBJ) lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SMALL_FLAGS) $(PKG_CFLAGS) -o $@ $< $(SMALL_OBJ) $(LDFLAGS) $(LDLIBS)

# libFuzzer targets: clang with the fuzzer, address and undefined sanitizers;
# the library is compiled once for all of them.
FUZZ_FLAGS = -g -O1 -std=c11 -D_GNU_SOURCE -Ilib -fsanitize=address,undefined \
    -DP2PL_VERSION_STRING='"$(VERSION)"'
FUZZ_OBJ   = $(LIB_SRC:lib/%.c=$(BUILD)/fuzz/obj/%.o)
$(BUILD)/fuzz/obj/%.o: lib/%.c lib/*.h
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< $(FUZZ_OBJ) $(LDLIBS)

fuzz-build: $(FUZZERS)

# make fuzz: run every target FUZZ_SECONDS seconds, growing tests/fuzz/corpus/.
fuzz: deps fuzz-build
	@sh tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory fuzz-build
	@$(MAKE) --no-print-directory BUILD=build-asan CC=clang \
	    CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
	    LDFLAGS='-fsanitize=address,undefined' all
	@sh tests/run.sh

# benchmarks: real swarms on loopback and the simulator; figures, not tests
# (see doc/BENCH.md); results in $(BUILD)/bench/
bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/tools/p2pl-sim-small
	@sh tests/bench/run.sh

bench-quick: deps
	@$(MAKE) --no-print-directory all
	@sh tests/bench/run.sh quick

demo: deps
	@$(MAKE) --no-print-directory all
	@sh contrib/demo.sh

# where make install puts things, under $(DESTDIR)$(PREFIX)
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man
DATADIR  = $(PREFIX)/share/p2pl
DOCDIR   = $(PREFIX)/share/doc/p2pl
BASHCOMP = $(PREFIX)/share/bash-completion/completions
ZSHCOMP  = $(PREFIX)/share/zsh/site-functions
MAN1     = $(wildcard man/*.1)
MAN5     = $(wildcard man/*.5)
MAN7     = $(wildcard man/*.7)
DOCS     = README.md contrib/config.example

# bash-completion loads completions/NAME when NAME is first completed
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(BASHCOMP) $(DESTDIR)$(ZSHCOMP) \
	    $(DESTDIR)$(DATADIR)/mpv $(DESTDIR)$(DOCDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)/
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/
	for c in $(CMDS); do \
	    install -m 644 contrib/completion/p2pl.bash $(DESTDIR)$(BASHCOMP)/$$c; \
	done
	install -m 644 contrib/completion/_p2pl $(DESTDIR)$(ZSHCOMP)/_p2pl
	install -m 644 contrib/mpv/p2pl.lua $(DESTDIR)$(DATADIR)/mpv/p2pl.lua
	install -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/

# removes what install put, and the directories that are p2pl's own
uninstall:
	rm -f $(CMDS:%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(MAN1:man/%=$(DESTDIR)$(MANDIR)/man1/%)
	rm -f $(MAN5:man/%=$(DESTDIR)$(MANDIR)/man5/%)
	rm -f $(MAN7:man/%=$(DESTDIR)$(MANDIR)/man7/%)
	rm -f $(CMDS:%=$(DESTDIR)$(BASHCOMP)/%) $(DESTDIR)$(ZSHCOMP)/_p2pl
	rm -f $(DESTDIR)$(DATADIR)/mpv/p2pl.lua
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	rmdir $(DESTDIR)$(DATADIR)/mpv $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR) \
	    2>/dev/null || true

# the version the programs are built with (-V)
version:
	@echo $(VERSION)

clean:
	rm -rf build build-asan
