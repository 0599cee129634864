# Thin wrapper around CMake presets. Two commands matter:
#   make demo    build and run the tour of the default machine
#   make check   install what is missing, build and run every test
#                (dev, ASan+UBSan, TSan, valgrind, fuzz smoke)
# Other targets: make (build build/dmasim), make bench, make clean.

SHELL := /bin/bash
BUILD_DEPS := cmake ninja-build gcc
CHECK_DEPS := $(BUILD_DEPS) clang libclang-rt-14-dev libcmocka-dev valgrind pkg-config
FUZZ_SECONDS ?= 20

.PHONY: all build demo check bench deps check-deps clean test-dev test-asan test-tsan test-valgrind test-fuzz

all: build

deps:
	@scripts/install-deps $(BUILD_DEPS)

check-deps:
	@scripts/install-deps $(CHECK_DEPS)

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release
	@ln -sf release/dmasim build/dmasim
	@ln -sf release/libdmasim.a build/libdmasim.a
	@ln -sf release/dmasim.pc build/dmasim.pc

demo: build
	@build/dmasim demo

bench: build
	@build/dmasim bench boot
	@build/dmasim bench boot --ram 1T
	@build/dmasim bench buddy
	@build/dmasim bench pio-vs-dma
	@build/dmasim bench dma-copy
	@build/dmasim bench map
	@build/dmasim bench map -t 2
	@build/dmasim bench map --path bounce
	@build/dmasim bench iova

test-dev:
	cmake --workflow --preset dev

test-asan:
	cmake --workflow --preset asan

test-tsan:
	cmake --workflow --preset tsan

# valgrind memcheck over the unit tests of the dev build (no leaks, no errors)
test-valgrind: test-dev
	cd build/dev && ctest -L memcheck -T memcheck --output-on-failure -j2

# build the libFuzzer targets with clang and run each on its corpus for a while
test-fuzz:
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz
	scripts/run-fuzzers build/fuzz $(FUZZ_SECONDS)

check: check-deps
	@$(MAKE) --no-print-directory test-dev test-asan test-tsan test-valgrind test-fuzz
	@echo "make check: all test configurations passed"

clean:
	rm -rf build
