# The front door. `make demo` and `make check` do everything on a fresh
# Debian 12 machine, dependencies included.

BUILD_DIR   ?= build
CHECK_DIR   ?= build-check
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
MAKEFLAGS   += --no-print-directory

.PHONY: all deps build demo check bench deb fuzz valgrind clean

all: build

deps:
	@scripts/deps.sh

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRELAY_TESTS=OFF

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Runs the refer demo: relayd, real SIP peers, examples/refer.c, one call.
demo: build
	@scripts/demo.sh $(BUILD_DIR)

# Every test (unit, integration, end-to-end), built with ASan and UBSan.
# The optimised build is compiled too: some warnings (maybe-uninitialized)
# only appear with optimisation, and `make demo` uses that build.
check: deps build
	cmake -S . -B $(CHECK_DIR) -DCMAKE_BUILD_TYPE=Debug -DRELAY_SANITIZE=ON -DRELAY_TESTS=ON
	cmake --build $(CHECK_DIR) -j $(JOBS)
	ctest --test-dir $(CHECK_DIR) --output-on-failure

# Every benchmark, quick profile (a few minutes); `make bench LONG=1` for
# the long one. Prints one summary table (bench/RESULTS.md).
bench: build
	@LONG=$(LONG) scripts/bench.sh $(BUILD_DIR)

# Every fuzz target (fuzz/) with libFuzzer for FUZZ_SECONDS each (default
# 60); `make check` only replays the committed corpora.
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

# librelay's tests under valgrind's memcheck, in a build without
# sanitizers (build-valgrind/): uninitialised reads and leaks fail it.
valgrind: deps
	@scripts/valgrind.sh

# The Debian packages librelay0, librelay-dev and relayd, into deb-out/.
# scripts/check-packages.sh deb-out installs, exercises and purges them.
deb: deps
	@scripts/build-debs.sh deb-out

clean:
	rm -rf $(BUILD_DIR) $(CHECK_DIR) build-valgrind build-fuzz deb-out
