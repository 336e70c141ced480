# mk/fuzz.mk - `make fuzz`: build every fuzz/fuzz_*.c with libFuzzer and run it.
#
# libfer is rebuilt into $(FUZZ_BUILD) with clang, coverage instrumentation
# (-fsanitize=fuzzer-no-link) and ASan+UBSan; each fuzz/fuzz_NAME.c becomes
# $(FUZZ_BUILD)/fuzz_NAME and runs for FUZZ_SECONDS on one core. Its corpus
# is $(FUZZ_BUILD)/corpus/NAME (kept between runs), seeded from
# tests/fixtures/NAME-seeds/ when that exists. Crashes are written as
# $(FUZZ_BUILD)/crash-* and make stops with an error.
#
#   make fuzz                          all targets, 60 s each
#   make fuzz FUZZ_SECONDS=600         longer
#   make fuzz FUZZ_TARGETS=png         one target
#   make fuzz-build                    build only
#
# When scripts/build-fuzz-deps has built instrumented libpng and
# libjpeg-turbo into $(FUZZ_BUILD)/deps, they are used instead of the
# system's, so the fuzzer sees coverage inside the codecs too.

FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_FLAGS   ?= -rss_limit_mb=2048 -timeout=30
FUZZ_DEPS    ?= $(FUZZ_BUILD)/deps
FUZZ_SRC     := $(wildcard fuzz/fuzz_*.c)
ifneq ($(wildcard $(FUZZ_DEPS)/lib/libpng16.a $(FUZZ_DEPS)/lib/libjpeg.a),)
FUZZ_INC     := -I$(abspath $(FUZZ_DEPS))/include
FUZZ_LIBS    := $(abspath $(FUZZ_DEPS))/lib/libpng16.a $(abspath $(FUZZ_DEPS))/lib/libjpeg.a -lz
endif
FUZZ_ALL     := $(FUZZ_SRC:fuzz/fuzz_%.c=%)
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-lib
fuzz-build: $(FUZZ_BINS)

# The library is built by this Makefile itself, with BUILD pointing here, so
# that any lib/*.c is included without a list of its own.
fuzz-lib:
	$(MAKE) --no-print-directory $(FUZZ_BUILD)/libfer.a BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
	    PKG_CFLAGS="$(FUZZ_INC) $(PKG_CFLAGS)"

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz-lib $(LIB_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ilib $(FUZZ_INC) $(PKG_CFLAGS) \
	    -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer $(FUZZ_SAN) \
	    -o $@ $< $(FUZZ_BUILD)/libfer.a $(FUZZ_LIBS) $(PKG_LIBS)

fuzz: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    corpus=$(FUZZ_BUILD)/corpus/$$t; mkdir -p $$corpus; \
	    seeds=; [ -d tests/fixtures/$$t-seeds ] && seeds=tests/fixtures/$$t-seeds; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s (corpus $$corpus $$seeds)"; \
	    (cd $(FUZZ_BUILD) && ./fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	        -print_final_stats=1 $(FUZZ_FLAGS) corpus/$$t \
	        $${seeds:+$(CURDIR)/$$seeds}) >$(FUZZ_BUILD)/fuzz_$$t.log 2>&1 \
	    || { tail -n 60 $(FUZZ_BUILD)/fuzz_$$t.log; echo "fuzz: $$t FAILED"; exit 1; }; \
	    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' $(FUZZ_BUILD)/fuzz_$$t.log \
	        | tr '\n' ' '; echo; \
	done
