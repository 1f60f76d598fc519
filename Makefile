# Thin wrapper over CMake: deps, build, demo, test, install. See README.md.
BUILD ?= build
SAN_BUILD ?= build-san
PYTHON ?= /usr/bin/python3
JOBS ?= $(shell nproc)

.PHONY: all deps build demo test unit pythons integration fuzz test-sanitize install format format-check clean

all: build

deps:
	./integration/install-deps

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

demo: deps build
	$(PYTHON) integration/demo.py --pypeek $(BUILD)/pypeek

unit: build
	$(BUILD)/pypeek_unit --jobs 2

# Debian's 3.9/3.11/3.13/3.14/3.15 with their -dbg packages, unpacked into a cache outside the
# source tree ($$PYPEEK_PYTHONS_CACHE, default ~/.cache/pypeek-pythons); a no-op once cached.
pythons:
	$(PYTHON) integration/pythons fetch

# INTEGRATION_ARGS: more run_tests.py options (.ci/run: --skips-allowed integration/skips.allowed).
INTEGRATION_ARGS ?=
integration: build pythons
	$(PYTHON) integration/run_tests.py --pypeek $(BUILD)/pypeek $(INTEGRATION_ARGS)

test: deps format-check build unit integration fuzz

# libFuzzer harnesses (fuzz/) over the cpython/ walkers, the object graph and snapshot files,
# clang-built in build-fuzz/; FUZZ_SECONDS each (longer on demand: make fuzz FUZZ_SECONDS=3600).
FUZZ_SECONDS ?= 60
fuzz:
	fuzz/run-fuzz --seconds $(FUZZ_SECONDS) -j 2

# Second full run under AddressSanitizer + UndefinedBehaviorSanitizer (CI runs it too).
test-sanitize: deps
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPYPEEK_SANITIZE=ON >/dev/null
	cmake --build $(SAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 $(SAN_BUILD)/pypeek_unit --jobs 2
	ASAN_OPTIONS=detect_leaks=1 $(PYTHON) integration/run_tests.py --pypeek $(SAN_BUILD)/pypeek \
	    $(INTEGRATION_ARGS)

install: build
	cmake --install $(BUILD)

format:
	clang-format -i */*.c */*.h

# The C sources must be as clang-format (.clang-format) writes them.
format-check:
	clang-format --dry-run --Werror */*.c */*.h

clean:
	rm -rf $(BUILD) $(SAN_BUILD) build-fuzz
