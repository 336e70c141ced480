# fer-tools: build, test, install.
#
# Everything is found by wildcard, so adding lib/foo.c, tools/fer-foo.c,
# tests/unit/test_foo.c or tests/tools/test-foo.sh needs no edit here.
# Optional fragments in mk/*.mk add targets of their own (fixtures, fuzzing).

VERSION  := 0.1.0
PREFIX   ?= /usr/local
BUILD    ?= build
CC       ?= cc
CFLAGS   ?= -O2 -g
FER_MEDIA ?= $(HOME)/.cache/fer-tools
export FER_MEDIA

PKGS := libavformat libavcodec libswscale libavutil libpng libjpeg openblas

# A fresh machine has none of the -dev packages: install them before the
# pkg-config look-ups below, so that `make` alone works as root on Debian 12.
ifeq ($(filter clean distclean,$(MAKECMDGOALS)),)
ifneq ($(shell pkg-config --exists $(PKGS) check 2>/dev/null && echo ok),ok)
$(info fer-tools: build dependencies missing, running scripts/install-deps)
$(if $(shell scripts/install-deps --build-only 1>&2 && echo ok),,$(error scripts/install-deps failed))
endif
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -lpthread -lm
CHECK_CFLAGS := $(shell pkg-config --cflags check)
CHECK_LIBS   := $(shell pkg-config --libs check)

ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ilib \
              -DFER_VERSION='"$(VERSION)"' $(PKG_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS := $(LDFLAGS) $(EXTRA_LDFLAGS)

LIB_SRC   := $(wildcard lib/*.c)
LIB_HDR   := $(wildcard lib/*.h)
LIB_OBJ   := $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
TOOL_SRC  := $(wildcard tools/fer-*.c)
TOOLS     := $(TOOL_SRC:tools/%.c=$(BUILD)/bin/%)
CLI_OBJ   := $(BUILD)/tools/cli.o
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNITS     := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIBFER    := $(BUILD)/libfer.a

.PHONY: all check check-unit check-tools check-asan bench install uninstall \
        clean deps media fuzz demo
all: $(LIBFER) $(TOOLS)

$(BUILD)/lib/%.o: lib/%.c $(LIB_HDR) Makefile
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(LIBFER): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

# The tools' shared command-line module (tools/cli.c) is not in libfer:
# it prints and exits, which library code never does.
$(CLI_OBJ): tools/cli.c tools/cli.h $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/bin/%: tools/%.c $(CLI_OBJ) $(LIBFER) $(LIB_HDR) tools/cli.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(CLI_OBJ) $(LIBFER) $(ALL_LDFLAGS) $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIBFER) $(LIB_HDR) tests/unit/check_helpers.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests/unit -o $@ $< $(LIBFER) \
	    $(ALL_LDFLAGS) $(CHECK_LIBS) $(PKG_LIBS)

# Test dependencies (PyTorch, OpenCV, test stills) and the real test videos.
deps:
	scripts/install-deps
media: deps
	scripts/fetch-media

check: all $(UNITS) media
	tests/run $(BUILD)

check-unit: all $(UNITS)
	tests/run --unit $(BUILD)

check-tools: all media
	tests/run --tools $(BUILD)

# The same suite, built separately with AddressSanitizer and UBSan.
check-asan:
	$(MAKE) check BUILD=build-asan CC=clang CFLAGS="-O1 -g -fno-omit-frame-pointer \
	    -fsanitize=address,undefined -fno-sanitize-recover=all" \
	    EXTRA_LDFLAGS="-fsanitize=address,undefined"

# The whole pipeline on the real videos; DEMO=dir to put it elsewhere.
DEMO ?= demo
demo: all media
	$(MAKE) -f scripts/demo.mk BIN=$(BUILD)/bin MEDIA=$(FER_MEDIA) DEMO=$(DEMO)

bench: all media
	scripts/bench $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include/fer $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(LIBFER) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(LIB_HDR) $(DESTDIR)$(PREFIX)/include/fer/
	install -m 644 $(wildcard man/man1/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(wildcard man/man5/*.5) $(DESTDIR)$(PREFIX)/share/man/man5/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@REQUIRES@|$(PKGS)|g' fer.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/fer.pc

uninstall:
	rm -f $(TOOLS:$(BUILD)/bin/%=$(DESTDIR)$(PREFIX)/bin/%) \
	    $(DESTDIR)$(PREFIX)/lib/libfer.a $(DESTDIR)$(PREFIX)/lib/pkgconfig/fer.pc
	rm -rf $(DESTDIR)$(PREFIX)/include/fer
	rm -f $(patsubst man/%,$(DESTDIR)$(PREFIX)/share/man/%,$(wildcard man/man1/*.1 man/man5/*.5))

clean:
	rm -rf build build-asan build-fuzz

-include $(wildcard mk/*.mk)
