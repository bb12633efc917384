# loramake: one non-recursive Makefile.
#
#   make             build ./loramake
#   make check       build with AddressSanitizer + UBSan, run every test
#                    (CC=clang: the same with clang, in obj-san-clang/)
#   make stress      the whole suite 5 times (STRESS_RUNS=) beside two
#                    CPU burners, then a table of what failed in which run
#   make deps        install the Debian packages the build and tests need
#                    (CLANG=1: clang too)
#   make quickstart  build recipes/quickstart offline (preview engine)
#   make install     ./loramake, its man page and bash and zsh completions
#                    under $(DESTDIR)$(PREFIX) (PREFIX=/usr/local); uninstall
#   make fuzz        build the libFuzzer harnesses of tests/fuzz/ (clang;
#                    sh tests/deps.sh fuzz installs it)
#   make fuzz-run    run each for FUZZ_SECONDS (default 30), one at a time
#
# libvips, libcurl, libarchive and libmicrohttpd are loaded with dlopen()
# when first needed (see base/dl.h), so only their headers are used at
# build time.

CC      ?= cc
PKG     ?= pkg-config
LINKED  := yaml-0.1 libxxhash libpcre2-8 jansson
DLOPEN  := vips libcurl libarchive libmicrohttpd
CSTD    := -std=gnu11
WARN    := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
           -Wvla -Wwrite-strings -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) -I. $(shell $(PKG) --cflags $(LINKED) $(DLOPEN))
LDLIBS  := $(shell $(PKG) --libs $(LINKED)) -ldl -lpthread -lm

SRC := $(sort $(wildcard base/*.c compiler/*.c cache/*.c runtime/*.c \
                         runtime/engines/*.c quality/*.c cli/*.c))
HDR := $(wildcard base/*.h compiler/*.h cache/*.h runtime/*.h quality/*.h cli/*.h)

OBJDIR  := obj
# Each compiler's sanitizer objects live apart, so they never mix. UBSan's
# `undefined` leaves out float-cast-overflow under gcc (clang's has it):
# named here, both check a double cast to an integer it does not fit.
SANDIR  := obj-san$(if $(findstring clang,$(notdir $(CC))),-clang)
SANFLAGS := -fsanitize=address,undefined,float-cast-overflow \
            -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g

OBJ     := $(SRC:%.c=$(OBJDIR)/%.o)
SANOBJ  := $(SRC:%.c=$(SANDIR)/%.o)
LIBOBJ_SAN := $(filter-out $(SANDIR)/cli/main.o,$(SANOBJ))

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(SANDIR)/tests/%)

all: loramake

loramake: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $(OBJ) $(LDLIBS)

$(OBJDIR)/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(SANDIR)/%.o: %.c $(HDR) $(SANDIR)/flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) -DLM_UNITTEST -c -o $@ $<

# the review page is built into the binary (cli/review_page.c)
$(OBJDIR)/cli/review_page.o $(SANDIR)/cli/review_page.o: cli/review/page.html

$(SANDIR)/loramake: $(SANOBJ)
	$(CC) $(SANFLAGS) -o $@ $(SANOBJ) $(LDLIBS)

# flags: the compiler and flags the objects were built with; a change to
# them (CC=, CFLAGS=, SANFLAGS above) rebuilds the objects.
$(SANDIR)/flags: FORCE
	@mkdir -p $(SANDIR)
	@echo '$(CC) $(ALL_CFLAGS) $(SANFLAGS)' | cmp -s - $@ || \
	    echo '$(CC) $(ALL_CFLAGS) $(SANFLAGS)' >$@

$(SANDIR)/tests/%: tests/unit/%.c $(LIBOBJ_SAN) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) -o $@ $< $(LIBOBJ_SAN) $(LDLIBS) \
	    $(shell $(PKG) --cflags --libs cmocka)

# check: run.sh prints "N passed, N failed" last; on a failure make adds
# its own "Error 1" line after it, which tests/check.sh (the README's
# command) avoids by running run.sh itself, after `make -s check-build`.
check: check-build
	@LORAMAKE=$(CURDIR)/$(SANDIR)/loramake UNIT_DIR=$(CURDIR)/$(SANDIR)/tests \
	    sh tests/run.sh

check-build: $(SANDIR)/loramake $(UNIT_BIN)

# print-sandir: where check-build puts its binaries (for tests/check.sh).
print-sandir:
	@echo $(SANDIR)

stress: check-build
	@LORAMAKE=$(CURDIR)/$(SANDIR)/loramake UNIT_DIR=$(CURDIR)/$(SANDIR)/tests \
	    sh tests/stress.sh

# Fuzzing: the readers of untrusted text, built with clang's libFuzzer and
# the sanitizers. Only the modules they reach are linked (base, compiler,
# cache). Seeds are committed in tests/fuzz/corpus/NAME/; what a run finds
# goes to obj-fuzz/corpus/NAME/ (listed first, so libFuzzer writes there).
FUZZ_CC   ?= clang
FUZZDIR   := obj-fuzz
FUZZFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer -O1 -g
FUZZ_SRC  := $(sort $(wildcard base/*.c compiler/*.c cache/*.c))
FUZZ_OBJ  := $(FUZZ_SRC:%.c=$(FUZZDIR)/%.o)
FUZZERS   := $(patsubst tests/fuzz/%.c,$(FUZZDIR)/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 30

$(FUZZDIR)/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZDIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJ) $(HDR)
	$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_OBJ) $(LDLIBS)

fuzz: $(FUZZERS)

fuzz-run: fuzz
	@for f in $(FUZZERS); do \
		n=$$(basename $$f); mkdir -p $(FUZZDIR)/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
		if ! $$f -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
		    -rss_limit_mb=2048 -close_fd_mask=2 -print_final_stats=1 \
		    -artifact_prefix=$(FUZZDIR)/$$n- \
		    $(FUZZDIR)/corpus/$$n tests/fuzz/corpus/$$n \
		    >$(FUZZDIR)/$$n.log 2>&1; then \
			tail -40 $(FUZZDIR)/$$n.log; exit 1; \
		fi; \
		grep -E "^stat::(number_of_executed_units|new_units_added)" \
		    $(FUZZDIR)/$$n.log; \
	done

deps:
	CLANG=$(CLANG) sh tests/deps.sh

# install: the man page is written from docs/cli.md (docs/man.py), so the
# two cannot disagree.
PREFIX  ?= /usr/local
BINDIR  := $(PREFIX)/bin
MAN1DIR := $(PREFIX)/share/man/man1
BASHDIR := $(PREFIX)/share/bash-completion/completions
ZSHDIR  := $(PREFIX)/share/zsh/site-functions
VERSION := $(shell sed -n 's/^\#define LORAMAKE_VERSION "\(.*\)"$$/\1/p' cli/main.c)

$(OBJDIR)/loramake.1: docs/cli.md docs/man.py
	@mkdir -p $(OBJDIR)
	python3 docs/man.py docs/cli.md $(VERSION) >$@.tmp && mv $@.tmp $@

install: loramake $(OBJDIR)/loramake.1
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(BASHDIR) $(DESTDIR)$(ZSHDIR)
	install -m 755 loramake $(DESTDIR)$(BINDIR)/loramake
	install -m 644 $(OBJDIR)/loramake.1 $(DESTDIR)$(MAN1DIR)/loramake.1
	install -m 644 completions/loramake.bash $(DESTDIR)$(BASHDIR)/loramake
	install -m 644 completions/_loramake $(DESTDIR)$(ZSHDIR)/_loramake

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/loramake $(DESTDIR)$(MAN1DIR)/loramake.1 \
	    $(DESTDIR)$(BASHDIR)/loramake $(DESTDIR)$(ZSHDIR)/_loramake

quickstart: loramake
	./loramake recipes/quickstart/recipe.yaml

bench: loramake
	sh bench/plan.sh
	sh bench/noop.sh

clean:
	rm -rf $(OBJDIR) obj-san obj-san-clang $(FUZZDIR) loramake

FORCE:
.PHONY: FORCE all check check-build print-sandir stress deps install uninstall quickstart bench clean fuzz fuzz-run
.SUFFIXES:
