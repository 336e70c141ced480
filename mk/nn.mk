# nn: the layer tests share a fixture reader; rebuild them when it changes.
$(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%): tests/unit/nn_fixture.h

# Fixtures are committed; regenerate them (PyTorch needed) with:
nn-fixtures:
	/usr/bin/python3 scripts/gen-nn-fixtures.py tests/fixtures/nn
.PHONY: nn-fixtures
