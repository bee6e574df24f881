# nemo-video: every entry point. `make demo` runs the main job on the embedded
# emulator; `make test` runs every test; `make bench` the benchmarks.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
CHROMEDRIVER ?= /usr/bin/chromedriver
export CHROMEDRIVER

.PHONY: setup demo test test-rust test-wasm test-js check-standalone size-check size-accept pkg emulator fuzz fmt clean bench bench-deps bench-smoke reliability soak

## Installs whatever is missing (idempotent).
setup:
	@bash scripts/bootstrap.sh

## Builds the emulator binary (release: renders and SSE at full speed).
emulator:
	cargo build --release -p nemo-emulator

## Builds the npm package into pkg/ (wasm-pack, opt-level z, LTO, wasm-opt).
pkg:
	@bash scripts/build-pkg.sh

## The main job: the emulator serves the demo page, and the quick flow runs
## against it end to end (upload → generate → export → MP4 on disk).
demo: setup emulator pkg
	@bash scripts/demo.sh

## Every test: native core + emulator, wasm in Node and Chromium, JS and page tests.
test: setup
	@bash scripts/test-all.sh

## One layer alone, for work on that layer (each is a part of `make test`):
## native tests, lint, fuzz smoke and the repository checks;
test-rust: setup
	@bash scripts/test-all.sh rust

## the wasm suites in Node and Chromium against an emulator;
test-wasm: setup
	@bash scripts/test-all.sh wasm

## the npm package, the demo page end to end, reliability and the bench smoke.
test-js: setup
	@bash scripts/test-all.sh js

## The size guard: fails when the gzipped wasm of the last `make pkg` grew
## more than 2 KiB over the record in pkg-size.txt (a step of `make test`).
size-check:
	@bash scripts/check-size.sh

## Records the last `make pkg`'s sizes as the new baseline (commit it with the
## change that moved them).
size-accept:
	cp target/pkg-size.txt pkg-size.txt

## The rule "the repository stands alone" (also the first step of `make test`).
check-standalone:
	@bash scripts/check-standalone.sh

fuzz:
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

## The benchmarks against the peers: regenerates BENCHMARKS.md + BENCHMARKS.json
## (several minutes; best on a quiet machine). See bench/README.md.
bench: bench-deps emulator pkg
	@bash bench/build-named.sh
	@node bench/run.mjs

## Installs the bench harness's npm dev dependencies (the peers) into bench/.
bench-deps:
	@NEMO_BENCH=1 bash scripts/bootstrap.sh

## The harness on tiny inputs (no timing is asserted); also a step of `make test`.
bench-smoke:
	@node bench/run.mjs --smoke

## The reliability suites (fault matrix, bad inputs, downloads, token hygiene,
## CI-size soak), then RELIABILITY.md from their results, the fuzz runs
## recorded by `make fuzz` and the last `make soak`.
reliability:
	@bash tests/reliability/run.sh; status=$$?; node tests/reliability/report.mjs; exit $$status

## The full soak: 200 concurrent sessions × 20 turns with seeded faults.
soak:
	@bash tests/reliability/run.sh soak

fmt:
	cargo fmt --all

clean:
	cargo clean; rm -rf pkg www/pkg tests/artifacts .emulator
