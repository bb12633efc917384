# loramake: one non-recursive Makefile.
#
#   make             build ./loramake
#   make check       build with AddressSanitizer + UBSan, run every test
#   make deps        install the Debian packages the build and tests need
#   make quickstart  build recipes/quickstart offline (preview engine)
#
# libvips, libcurl and libarchive are loaded with dlopen() when first
# needed (see base/dl.h), so only their headers are used at build time.

CC      ?= cc
PKG     ?= pkg-config
LINKED  := yaml-0.1 libxxhash libpcre2-8 jansson
DLOPEN  := vips libcurl libarchive
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
SANDIR  := obj-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer -O1 -g

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

$(SANDIR)/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) -DLM_UNITTEST -c -o $@ $<

$(SANDIR)/loramake: $(SANOBJ)
	$(CC) $(SANFLAGS) -o $@ $(SANOBJ) $(LDLIBS)

$(SANDIR)/tests/%: tests/unit/%.c $(LIBOBJ_SAN) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) -o $@ $< $(LIBOBJ_SAN) $(LDLIBS) \
	    $(shell $(PKG) --cflags --libs cmocka)

check: $(SANDIR)/loramake $(UNIT_BIN)
	@LORAMAKE=$(CURDIR)/$(SANDIR)/loramake UNIT_DIR=$(CURDIR)/$(SANDIR)/tests \
	    sh tests/run.sh

deps:
	sh tests/deps.sh

quickstart: loramake
	./loramake recipes/quickstart/recipe.yaml

bench: loramake
	sh bench/plan.sh
	sh bench/noop.sh

clean:
	rm -rf $(OBJDIR) $(SANDIR) loramake

.PHONY: all check deps quickstart bench clean
.SUFFIXES:
