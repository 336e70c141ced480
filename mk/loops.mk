# loops: the optimizer's update is a memory-bound element-wise loop like the
# nn_* layers (mk/nn.mk): -O3 vectorises it. No fast-math, so no result
# changes.
$(BUILD)/lib/optim.o: ALL_CFLAGS += -O3
