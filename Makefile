# Traguardi: the two commands of the README.
#   make run   serves the app on SQLite with the demo data at http://127.0.0.1:3000
#   make test  runs every check and test (what CI runs)
#   make fuzz  runs every property test for 100,000 cases (not part of `make test`)
# Both install whatever tool is missing first (.ci/install-tools, idempotent).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
# cargo's bin folder first: its wasm-opt 116 must win over Debian's binaryen 108.
export PATH := $(HOME)/.cargo/bin:$(PATH)

# Every compilation goes through sccache when .ci/install-tools has built it: its cache in the home
# folder (~/.cache/sccache, 20 GB at most) is shared by every clone and worktree, so a fresh clone
# compiles only Traguardi itself. RUSTC_WRAPPER= (empty) turns it off.
ifneq ($(wildcard $(HOME)/.cargo/bin/sccache),)
export RUSTC_WRAPPER ?= $(HOME)/.cargo/bin/sccache
export SCCACHE_DIR ?= $(HOME)/.cache/sccache
export SCCACHE_CACHE_SIZE ?= 20G
endif

DATABASE_URL ?= sqlite://data/traguardi.sqlite
E2E_ADDR ?= 127.0.0.1:3100
MOTO_SERVER ?= $(HOME)/.local/share/traguardi-moto/bin/moto_server
MOTO_PORT ?= 9100
AIOSMTPD_PYTHON ?= $(HOME)/.local/share/traguardi-aiosmtpd/bin/python
SMTP_PORT ?= 9200
SOAK_SECS ?= 600
SOAK_RATE ?= 200
SOAK_ADDR ?= 127.0.0.1:3300
SOAK_PG_DB ?= traguardi_soak
SOAK_PASSWORD ?= Soak-Traguardi-2026
SOAK_BIN ?= ./target/release/traguardi
SOAK_BACKENDS ?= sqlite postgres

.PHONY: run test tools assets build lint unit e2e crash bench soak fuzz

tools:
	@bash .ci/install-tools

## Bootstrap Italia, pinned in style/package-lock.json: `npm ci` in style/ only when the lock file
## is newer than the install, then its stylesheet, icon sprite and woff2 fonts (with their
## licences) are copied into public/bootstrap-italia/ (gitignored), which cargo-leptos puts in
## target/site. Nothing else from node_modules is served; its JavaScript never is. One rule is
## dropped from the stylesheet: Video.js's icon font, a data: URL that Chromium loads at once
## and the Content-Security-Policy (font-src 'self') refuses (no page plays videos); so is the
## source-map comment (the map is not copied).
BI_DIST := style/node_modules/bootstrap-italia/dist
BI_OUT := public/bootstrap-italia
BI_FONTS := $(foreach w,300 300italic regular italic 600 600italic 700 700italic,Titillium_Web/titillium-web-v10-latin-ext_latin-$(w).woff2) \
	Titillium_Web/OFL.txt $(foreach w,regular 700,Roboto_Mono/roboto-mono-v13-latin-ext_latin-$(w).woff2) Roboto_Mono/LICENSE.txt

assets:
	@if [ ! -d style/node_modules ] || [ style/package-lock.json -nt style/node_modules/.package-lock.json ]; then \
	  echo "==> installing Bootstrap Italia (npm ci in style/)"; \
	  (cd style && npm ci --ignore-scripts --no-audit --no-fund); \
	fi
	@version=$$(node -p "require('./style/node_modules/bootstrap-italia/package.json').version"); \
	if [ "$$(cat $(BI_OUT)/VERSION 2>/dev/null)" != "$$version" ] || [ Makefile -nt $(BI_OUT)/VERSION ]; then \
	  echo "==> copying Bootstrap Italia $$version (CSS, icons, fonts) into $(BI_OUT)/"; \
	  rm -rf $(BI_OUT); \
	  mkdir -p $(BI_OUT)/css $(BI_OUT)/svg $(BI_OUT)/fonts/Titillium_Web $(BI_OUT)/fonts/Roboto_Mono; \
	  perl -0pe 's/\@font-face\{font-family:VideoJS;[^}]*\}//g; s{/\*# sourceMappingURL=[^*]*\*/}{}g' \
	    $(BI_DIST)/css/bootstrap-italia.min.css > $(BI_OUT)/css/bootstrap-italia.min.css; \
	  if grep -q '@font-face' $(BI_OUT)/css/bootstrap-italia.min.css; then \
	    echo "bootstrap-italia.min.css declares a font this script does not know (see the Makefile)"; exit 1; fi; \
	  cp $(BI_DIST)/svg/sprites.svg $(BI_OUT)/svg/; \
	  for f in $(BI_FONTS); do cp $(BI_DIST)/fonts/$$f $(BI_OUT)/fonts/$$f; done; \
	  cp style/node_modules/bootstrap-italia/LICENSE $(BI_OUT)/LICENSE; \
	  echo "$$version" > $(BI_OUT)/VERSION; \
	fi

build: tools assets
	cargo leptos build --release

## Serve on SQLite, loading the demo dataset on first start.
run: build
	DATABASE_URL='$(DATABASE_URL)' ./target/release/traguardi serve --demo

## Every test: formatting, lints on both feature sets, unit and database tests (SQLite and
## PostgreSQL), then Playwright on the release build with JavaScript on and off, then the crash
## and stop tests against the release build.
test: tools lint unit e2e crash

lint:
	cargo fmt --all --check
	cargo clippy --features ssr --lib --bins --tests --benches -- -D warnings
	cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

## The database tests, with the test servers they talk to (.ci/with-test-servers): PostgreSQL
## on 127.0.0.1:5432 (required in CI, skipped with a line elsewhere), moto's S3 server on the
## first free port from MOTO_PORT (TRAGUARDI_TEST_S3) and aiosmtpd on the first free port from
## SMTP_PORT (TRAGUARDI_TEST_SMTP, TRAGUARDI_TEST_SMTP_DIR), stopped afterwards whatever happens.
unit:
	MOTO_SERVER='$(MOTO_SERVER)' MOTO_PORT='$(MOTO_PORT)' AIOSMTPD_PYTHON='$(AIOSMTPD_PYTHON)' SMTP_PORT='$(SMTP_PORT)' \
	  bash .ci/with-test-servers cargo test --features ssr --lib

e2e: build
	E2E_ADDR='$(E2E_ADDR)' bash end2end/run.sh

## Crash safety, stopping and several servers: the release server as a child process, killed
## (SIGKILL) in the middle of a 50 MB upload, of a 10,000-row import's commit and of a burst of
## workspace edits, restarted and checked; stopped with SIGTERM; and two servers on one PostgreSQL
## database and one S3 bucket serving the same people. The tests are the `#[ignore]`d ones of
## src/integration/crash.rs and cluster.rs, in the debug test binary `make unit` built (no second
## compilation), with the same test servers (skipped without them unless CI is set).
crash: build
	MOTO_SERVER='$(MOTO_SERVER)' MOTO_PORT='$(MOTO_PORT)' AIOSMTPD_PYTHON='$(AIOSMTPD_PYTHON)' SMTP_PORT='$(SMTP_PORT)' \
	  TRAGUARDI_SERVER_BIN=target/release/traguardi bash .ci/with-test-servers \
	  cargo test --features ssr --lib -- --ignored --test-threads=1 integration::crash:: integration::cluster::

## Speed and memory (not part of `make test`): the HTTP load from a separate process against the
## release server on 127.0.0.1, the dashboard against a static copy of itself under wrk (64
## connections) with the wasm's gzip size, a 100 MB evidence upload with the server's memory
## growth (the server takes uploads up to 200 MB, stored in target/bench/evidenze), then the
## rules over a synthetic national programme. The server is stopped whatever a bench does.
bench: build
	@command -v wrk >/dev/null || { echo "==> installing Debian's wrk (load generator)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi; }
	@rm -rf target/bench && mkdir -p target/bench/evidenze
	DATABASE_URL='sqlite://target/bench/traguardi.sqlite' ./target/release/traguardi demo >/dev/null
	@DATABASE_URL='sqlite://target/bench/traguardi.sqlite' LEPTOS_SITE_ADDR='$(E2E_ADDR)' RUST_LOG=warn \
	  TRAGUARDI_EVIDENCE_MAX_BYTES=209715200 TRAGUARDI_EVIDENCE_STORE=target/bench/evidenze \
	  ./target/release/traguardi serve --demo > target/bench/server.log 2>&1 & echo $$! > target/bench/server.pid
	@for i in $$(seq 1 60); do curl -fsS 'http://$(E2E_ADDR)/healthz' >/dev/null 2>&1 && break; sleep 0.5; done
	@pid=$$(cat target/bench/server.pid); trap 'kill $$pid 2>/dev/null || true' EXIT; \
	BENCH_URL='http://$(E2E_ADDR)' BENCH_PID=$$pid cargo bench --profile bench-build --features ssr --bench load && \
	BENCH_URL='http://$(E2E_ADDR)' cargo bench --profile bench-build --features ssr --bench dashboard && \
	BENCH_URL='http://$(E2E_ADDR)' BENCH_PID=$$pid cargo bench --profile bench-build --features ssr --bench evidence
	cargo bench --profile bench-build --features ssr --bench scale


## The property tests (every `props::prop_*`: the parsers of outside input, see src/fuzz.rs)
## for FUZZ_CASES cases each, optimised (FUZZ_PROFILE=--release; empty: the debug build `make
## test` already made), on SQLite and PostgreSQL (when it answers; TRAGUARDI_FUZZ_POSTGRES=0
## leaves it out); `make test` runs the same properties for 128 cases each. Prints each property's cases and time;
## a failure prints the minimal input and fails the target.
FUZZ_CASES ?= 100000
FUZZ_PROFILE ?= --release
fuzz:
	@rm -f target/fuzz-report.txt; mkdir -p target; touch target/fuzz-report.txt; start=$$(date +%s); status=0; \
	TRAGUARDI_FUZZ_CASES=$(FUZZ_CASES) TRAGUARDI_FUZZ_REPORT="$$PWD/target/fuzz-report.txt" \
	  cargo test $(FUZZ_PROFILE) --features ssr --lib props:: -- --test-threads=2 || status=$$?; \
	echo "==> make fuzz: cases and seconds per property"; \
	awk '{ status = $$NF; secs = $$(NF-1); cases = $$(NF-2); $$NF = ""; $$(NF-1) = ""; $$(NF-2) = ""; \
	  printf "  %-78s %8d cases %8.1f s  %s\n", $$0, cases, secs, status }' target/fuzz-report.txt; \
	failed=$$(grep -c 'FAILED$$' target/fuzz-report.txt || true); \
	echo "==> $$(wc -l < target/fuzz-report.txt) properties, $$failed failed (a panic is a failure), $$(( $$(date +%s) - start )) s in all"; \
	exit $$status

## Long load (not part of `make test`): the release server under a mixed load at a fixed rate
## (SOAK_RATE operations/s, open loop) for SOAK_SECS seconds, from a separate process on
## 127.0.0.1 (benches/soak.rs), first on SQLite, then on a fresh PostgreSQL database
## (SOAK_PG_DB, dropped and created again). Each database gets the demo dataset and three
## accounts of the soak's own (`traguardi user add`: an applied import ends a demo database and
## its demo accounts). Output, the server's log and the CSV files under target/soak/. The server
## is stopped whatever happens; both backends run, and the target fails if either had a 5xx or
## an error. SOAK_BIN picks another server binary (`make -o build soak
## SOAK_BIN=target/bench-build/traguardi` serves the one the bench profile built, without
## cargo-leptos: hence LEPTOS_OUTPUT_NAME, which cargo-leptos otherwise compiles in; it is set
## on the server only, since cargo would rebuild Leptos if it changed for `cargo bench`).
soak: build
	cargo bench --profile bench-build --features ssr --bench soak --no-run
	@pid=''; status=0; \
	trap '[ -z "$$pid" ] || { kill "$$pid" 2>/dev/null; wait "$$pid" 2>/dev/null; } || true' EXIT; \
	trap 'exit 130' INT TERM; \
	for backend in $(SOAK_BACKENDS); do \
	  dir="target/soak/$$backend"; rm -rf "$$dir" target/soak/$$backend-*.csv; mkdir -p "$$dir/evidenze"; \
	  if [ "$$backend" = sqlite ]; then url="sqlite://$$dir/traguardi.sqlite"; else \
	    url='postgres://postgres@127.0.0.1:5432/$(SOAK_PG_DB)'; \
	    psql -h 127.0.0.1 -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
	      -c 'DROP DATABASE IF EXISTS $(SOAK_PG_DB) WITH (FORCE)' -c 'CREATE DATABASE $(SOAK_PG_DB)'; \
	  fi; \
	  echo "==> soak on $$backend ($$url): $(SOAK_RATE) operations/s for $(SOAK_SECS) s"; \
	  DATABASE_URL="$$url" '$(SOAK_BIN)' demo > "$$dir/setup.log"; \
	  for who in regione "comune --comune 072006 --comune 072004" assessore; do \
	    role="$${who%% *}"; \
	    printf '%s\n' '$(SOAK_PASSWORD)' | DATABASE_URL="$$url" '$(SOAK_BIN)' user add \
	      --email "soak.$$role@traguardi.invalid" --name "Soak $$role" --role $$who --password-stdin >> "$$dir/setup.log"; \
	  done; \
	  DATABASE_URL="$$url" LEPTOS_SITE_ADDR='$(SOAK_ADDR)' LEPTOS_OUTPUT_NAME=traguardi RUST_LOG=warn \
	    TRAGUARDI_EVIDENCE_STORE="$$dir/evidenze" \
	    '$(SOAK_BIN)' serve > "$$dir/server.log" 2>&1 & pid=$$!; \
	  for i in $$(seq 1 120); do curl -fsS 'http://$(SOAK_ADDR)/healthz' >/dev/null 2>&1 && break; \
	    kill -0 "$$pid" 2>/dev/null || break; sleep 0.5; done; \
	  if ! curl -fsS 'http://$(SOAK_ADDR)/healthz' >/dev/null 2>&1; then \
	    echo "the server did not answer on $(SOAK_ADDR) (its log: $$dir/server.log)"; exit 1; fi; \
	  SOAK_URL='http://$(SOAK_ADDR)' SOAK_PID="$$pid" SOAK_LABEL="$$backend" SOAK_OUT=target/soak \
	    SOAK_SECS='$(SOAK_SECS)' SOAK_RATE='$(SOAK_RATE)' SOAK_PASSWORD='$(SOAK_PASSWORD)' \
	    cargo bench --profile bench-build --features ssr --bench soak 2>&1 | tee "$$dir/soak.txt" || status=1; \
	  kill "$$pid" 2>/dev/null || true; wait "$$pid" 2>/dev/null || true; pid=''; \
	done; \
	exit $$status
