# Traguardi: the two commands of the README.
#   make run   serves the app on SQLite with the demo data at http://127.0.0.1:3000
#   make test  runs every check and test (what CI runs)
# Both install whatever tool is missing first (.ci/install-tools, idempotent).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
# cargo's bin folder first: its wasm-opt 116 must win over Debian's binaryen 108.
export PATH := $(HOME)/.cargo/bin:$(PATH)

DATABASE_URL ?= sqlite://data/traguardi.sqlite
E2E_ADDR ?= 127.0.0.1:3100

.PHONY: run test tools build lint unit e2e bench

tools:
	@bash .ci/install-tools

build: tools
	cargo leptos build --release

## Serve on SQLite, loading the demo dataset on first start.
run: build
	DATABASE_URL='$(DATABASE_URL)' ./target/release/traguardi serve --demo

## Every test: formatting, lints on both feature sets, unit and database tests (SQLite and
## PostgreSQL), then Playwright on the release build with JavaScript on and off.
test: tools lint unit e2e

lint:
	cargo fmt --all --check
	cargo clippy --features ssr --lib --bins --tests --benches -- -D warnings
	cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

unit:
	@if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
	  echo "PostgreSQL answers on 127.0.0.1:5432: the database tests run on SQLite and PostgreSQL."; \
	elif [ -n "$${CI:-}" ]; then \
	  echo "PostgreSQL is required in CI but does not answer on 127.0.0.1:5432."; exit 1; \
	else \
	  echo "SKIPPING the PostgreSQL half of the database tests: nothing answers on 127.0.0.1:5432 (SQLite still runs)."; \
	fi
	cargo test --features ssr --lib

e2e: build
	E2E_ADDR='$(E2E_ADDR)' bash end2end/run.sh

## Speed and memory (not part of `make test`): the HTTP load from a separate process against the
## release server on 127.0.0.1, then the rules over a synthetic national programme.
bench: build
	@rm -rf target/bench && mkdir -p target/bench
	DATABASE_URL='sqlite://target/bench/traguardi.sqlite' ./target/release/traguardi demo >/dev/null
	@DATABASE_URL='sqlite://target/bench/traguardi.sqlite' LEPTOS_SITE_ADDR='$(E2E_ADDR)' RUST_LOG=warn \
	  ./target/release/traguardi serve > target/bench/server.log 2>&1 & echo $$! > target/bench/server.pid
	@for i in $$(seq 1 60); do curl -fsS 'http://$(E2E_ADDR)/healthz' >/dev/null 2>&1 && break; sleep 0.5; done
	@BENCH_URL='http://$(E2E_ADDR)' BENCH_PID=$$(cat target/bench/server.pid) \
	  cargo bench --profile bench-build --features ssr --bench load; status=$$?; kill $$(cat target/bench/server.pid); exit $$status
	cargo bench --profile bench-build --features ssr --bench scale
