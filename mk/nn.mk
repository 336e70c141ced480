# nn: the layer tests share a fixture reader; rebuild them when it changes.
$(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%): tests/unit/nn_fixture.h

# Fixtures are committed; regenerate them (PyTorch needed) with:
nn-fixtures:
	/usr/bin/python3 scripts/gen-nn-fixtures.py tests/fixtures/nn
.PHONY: nn-fixtures

# The convolution benchmark program used by scripts/bench-nn.
$(BUILD)/bench/nn-bench: bench/nn-bench.c $(LIBFER) $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBFER) $(ALL_LDFLAGS) $(PKG_LIBS)
all: $(BUILD)/bench/nn-bench

$(BUILD)/bench/nn-train-bench: bench/nn-train-bench.c $(LIBFER) $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBFER) $(ALL_LDFLAGS) $(PKG_LIBS)
all: $(BUILD)/bench/nn-train-bench
