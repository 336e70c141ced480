# loops: the optimizer's update is a memory-bound element-wise loop like the
# nn_* layers (mk/nn.mk): -O3 vectorises it. No fast-math, so no result
# changes.
$(BUILD)/lib/optim.o: ALL_CFLAGS += -O3

# The memory-bound layers timed one call at a time (bench/loops-bench.c).
$(BUILD)/bench/loops-bench: bench/loops-bench.c bench/bench_util.h $(LIBFER) $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBFER) $(ALL_LDFLAGS) $(PKG_LIBS)
all: $(BUILD)/bench/loops-bench
