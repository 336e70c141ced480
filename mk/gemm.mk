# gemm: fer_sgemm against OpenBLAS on the engine's products (bench/gemm-bench.c).
$(BUILD)/bench/gemm-bench: bench/gemm-bench.c $(LIBFER) $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBFER) $(ALL_LDFLAGS) $(PKG_LIBS)
all: $(BUILD)/bench/gemm-bench
