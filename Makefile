# Freshet build entry points. CMake + Ninja underneath; ccache is used when installed
# (the top-level CMakeLists.txt picks it up). See README.md for what each target does.

JOBS        ?= 2
GENERATOR   := -G Ninja
RELEASE_DIR := build/release
DEBUG_DIR   := build/debug
FUZZ_DIR    := build/fuzz
# Release with assertions: the top-level CMakeLists.txt strips -DNDEBUG from Release flags.
# -O2, not CMake's -O3: GCC 12 at -O3 raises false -Wrestrict warnings inside std::string
# (GCC bug 105329), which -Werror turns into build failures.
RELEASE_FLAGS := -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O2 -DCMAKE_C_FLAGS_RELEASE=-O2
DEBUG_FLAGS   := -DCMAKE_BUILD_TYPE=Debug -DFRESHET_SANITIZE=ON
FUZZ_FLAGS    := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFRESHET_FUZZ=ON \
                 -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
# The fuzz drivers under ASan/UBSan at -O1 (-O0 runs them too slowly for 10^6 executions on
# a shared machine): only the drivers and the libraries they link, none of src/server.
ASAN_DIR      := build/asan
ASAN_FLAGS    := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFRESHET_SANITIZE=ON \
                 "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g"
FUZZ_DRIVERS  := sql_fuzz_driver http_api_fuzz_driver pgwire_fuzz_driver pgwire_copy_fuzz_driver \
                 kafka_fuzz_driver capture_postgres_fuzz_driver capture_mysql_fuzz_driver \
                 capture_sqlserver_fuzz_driver capture_kafka_fuzz_driver

.PHONY: all release debug fuzz fuzz-asan test test-slow test-pg demo demo-sqlserver bench deps clean help

all: release

deps:
	@scripts/install-deps.sh

$(RELEASE_DIR)/build.ninja:
	cmake -S . -B $(RELEASE_DIR) $(GENERATOR) $(RELEASE_FLAGS)

release: $(RELEASE_DIR)/build.ninja
	ninja -C $(RELEASE_DIR) -j$(JOBS)

$(DEBUG_DIR)/build.ninja:
	cmake -S . -B $(DEBUG_DIR) $(GENERATOR) $(DEBUG_FLAGS)

debug: $(DEBUG_DIR)/build.ninja
	ninja -C $(DEBUG_DIR) -j$(JOBS)

$(FUZZ_DIR)/build.ninja:
	cmake -S . -B $(FUZZ_DIR) $(GENERATOR) $(FUZZ_FLAGS)

fuzz: $(FUZZ_DIR)/build.ninja
	ninja -C $(FUZZ_DIR) -j$(JOBS)

$(ASAN_DIR)/build.ninja:
	cmake -S . -B $(ASAN_DIR) $(GENERATOR) $(ASAN_FLAGS)

fuzz-asan: $(ASAN_DIR)/build.ninja
	ninja -C $(ASAN_DIR) -j$(JOBS) $(FUZZ_DRIVERS)

# Unit tests (ctest), the sqllogictest suites (test/sql/*.slt and SQLite's select1-5) and the
# end-to-end tests with psql, libpq and node-postgres; last line: `N passed, M failed`.
test: deps
	@$(MAKE) --no-print-directory release || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
	@scripts/run-tests.sh unit slt e2e

# Slow suites: SQLite's evidence files (judged against PostgreSQL's own pass count), the
# fetched corpora, long differential runs, and every fuzz driver 10^6 times under ASan/UBSan
# (the fuzz-asan build; FUZZ_BUILD_DIR=build/release for the release build's drivers).
FUZZ_BUILD_DIR ?= $(ASAN_DIR)
test-slow: deps release fuzz-asan
	@FUZZ_BUILD_DIR=$(FUZZ_BUILD_DIR) scripts/run-tests.sh slow

# The same slt and e2e suites against a throwaway PostgreSQL 15: checks the expectations.
test-pg: deps release
	@E2E_TARGET=postgres scripts/run-tests.sh slt e2e

demo: deps release
	@scripts/demo.sh

# The seed's first step (SQL Server CDC) against test/sqlserver_emulator: a simulation.
demo-sqlserver: deps release
	@scripts/demo_sqlserver.sh

bench: deps release
	@bench/analytics.sh

clean:
	rm -rf build

help:
	@echo "make            release build (assertions on) into $(RELEASE_DIR)"
	@echo "make debug      ASan/UBSan build into $(DEBUG_DIR)"
	@echo "make test       deps, build, unit + sqllogictest + e2e tests"
	@echo "make test-slow  the slow suites (SQLite evidence files, corpora, fuzz drivers under ASan/UBSan)"
	@echo "make test-pg    slt + e2e suites against PostgreSQL 15 (validates expectations)"
	@echo "make demo       freshet demo: the SALES workload, the seed's view, the web console (prints its URL)"
	@echo "make demo-sqlserver  the seed's SQL Server CDC step against the TDS emulator (a simulation)"
	@echo "make bench      analytical queries, Freshet vs PostgreSQL 15"
	@echo "make fuzz       libFuzzer targets with clang into $(FUZZ_DIR)"
	@echo "make fuzz-asan  the 9 fuzz drivers only, -O1 with ASan/UBSan, into $(ASAN_DIR)"
