# p2pl — peer-to-peer live streaming.  See README.md.

PREFIX  ?= /usr/local
BUILD   ?= build
CC      ?= cc
CFLAGS  ?= -O2 -g
# flags the code needs, kept apart so CFLAGS=... on the command line adds
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ilib $(CFLAGS)
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
TOOLS    = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz-*.c)
FUZZERS  = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 60

.PHONY: all deps check check-asan demo fuzz fuzz-build clean install uninstall
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

$(BUILD)/bin/%: cmd/%.c $(BUILD)/libp2pl.a lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(BUILD)/libp2pl.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libp2pl.a lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(BUILD)/libp2pl.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c tests/tools/peerio.c tests/tools/peerio.h \
    $(BUILD)/libp2pl.a lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< tests/tools/peerio.c \
	    $(BUILD)/libp2pl.a $(LDFLAGS) $(LDLIBS)

# libFuzzer targets: clang with the fuzzer, address and undefined sanitizers;
# the library is compiled once for all of them.
FUZZ_FLAGS = -g -O1 -std=c11 -D_GNU_SOURCE -Ilib -fsanitize=address,undefined
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

demo: deps
	@$(MAKE) --no-print-directory all
	@sh contrib/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/

uninstall:
	rm -f $(CMDS:%=$(DESTDIR)$(PREFIX)/bin/%)
	rm -f $(CMDS:%=$(DESTDIR)$(PREFIX)/share/man/man1/%.1)
	rm -f $(DESTDIR)$(PREFIX)/share/man/man7/p2pl.7

clean:
	rm -rf build build-asan
