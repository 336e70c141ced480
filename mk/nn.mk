# nn: the layer tests share a fixture reader; rebuild them when it changes.
$(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%): tests/unit/nn_fixture.h

# Fixtures are committed; regenerate them (PyTorch needed) with:
nn-fixtures:
	/usr/bin/python3 scripts/gen-nn-fixtures.py tests/fixtures/nn
.PHONY: nn-fixtures

# The convolution benchmark program used by scripts/bench-nn.
$(BUILD)/bench/nn-bench: bench/nn-bench.c bench/bench_util.h $(LIBFER) $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBFER) $(ALL_LDFLAGS) $(PKG_LIBS)
all: $(BUILD)/bench/nn-bench

$(BUILD)/bench/nn-train-bench: bench/nn-train-bench.c $(LIBFER) $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBFER) $(ALL_LDFLAGS) $(PKG_LIBS)
all: $(BUILD)/bench/nn-train-bench

# The element-wise layers are memory-bound loops that GCC vectorises only at
# -O3 (at -O2 ReLU compiles to a compare-and-branch per element, which
# mispredicts on random signs). -O3 changes no result: no fast-math.
$(patsubst lib/%.c,$(BUILD)/lib/%.o,$(wildcard lib/nn_*.c)): ALL_CFLAGS += -O3
