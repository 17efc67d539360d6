#!/usr/bin/env bash
# Runs the browser tests against the release build: a fresh demo database, the test OpenID
# provider (oidc-provider, end2end/oidc/provider.mjs) and the server, all on 127.0.0.1; both
# background processes are stopped however the run ends. Called by `make e2e` from the root.
set -euo pipefail

ADDR="${E2E_ADDR:-127.0.0.1:3100}"
OIDC_PORT="${E2E_OIDC_PORT:-3101}"
# Another build tree (e.g. CARGO_TARGET_DIR=… LEPTOS_SITE_ROOT=… make e2e) can name its binary
# and a folder of its own for the run's database and logs.
DIR="${E2E_DIR:-target/e2e}"
DB="sqlite://$DIR/traguardi.sqlite"
BIN="${E2E_BIN:-./target/release/traguardi}"

rm -rf "$DIR" && mkdir -p "$DIR"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_for() { # URL LOG
  for _ in $(seq 1 60); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "not answering: $1"; cat "$2"; return 1
}

OIDC_PORT="$OIDC_PORT" APP_URL="http://$ADDR" node end2end/oidc/provider.mjs > "$DIR/oidc.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$OIDC_PORT/.well-known/openid-configuration" "$DIR/oidc.log"

DATABASE_URL="$DB" "$BIN" demo > "$DIR/setup.log"
# The person the OIDC test signs in as: pre-registered by fiscal code, as the Region would.
DATABASE_URL="$DB" "$BIN" user add --email referente@comune.bari.example --name "Rosa Referente" \
  --role comune --comune 072006 --fiscal-code RSSRSO80A41A662K >> "$DIR/setup.log"

DATABASE_URL="$DB" LEPTOS_SITE_ADDR="$ADDR" TRAGUARDI_EVIDENCE_STORE="$DIR/evidenze" \
  TRAGUARDI_OIDC_ISSUER="http://127.0.0.1:$OIDC_PORT" TRAGUARDI_OIDC_CLIENT_ID=traguardi-e2e \
  TRAGUARDI_OIDC_CLIENT_SECRET=e2e-secret TRAGUARDI_LOGIN_LIMIT_PER_IP=500 TRAGUARDI_LOGIN_LIMIT_PER_ACCOUNT=500 \
  "$BIN" serve --demo > "$DIR/server.log" 2>&1 &
pids+=($!)
wait_for "http://$ADDR/healthz" "$DIR/server.log"

cd end2end && BASE_URL="http://$ADDR" npx playwright test "$@"
