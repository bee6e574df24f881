# nemo-video: every entry point. `make demo` runs the main job on the embedded
# emulator; `make test` runs every test; `make bench` the benchmarks.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
CHROMEDRIVER ?= /usr/bin/chromedriver
export CHROMEDRIVER

.PHONY: setup demo test test-rust test-wasm test-js pkg emulator fuzz fmt clean

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

test-rust:
	cargo test --workspace

fuzz:
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

fmt:
	cargo fmt --all

clean:
	cargo clean; rm -rf pkg www/pkg tests/artifacts .emulator
