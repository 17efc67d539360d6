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
# The person the OIDC test signs in as: pre-registered by fiscal code, as the Region would, and
# a demo account (a real one would end the demo: see the README's "Demo data and real data").
DATABASE_URL="$DB" "$BIN" user add --email referente@comune.bari.example --name "Rosa Referente" \
  --role comune --comune 072006 --fiscal-code RSSRSO80A41A662K --demo >> "$DIR/setup.log"

# A second server whose database holds real records (it started from the demo rows, then real
# accounts ended the demo): the imports, which would end the first server's demo, run there.
REAL_ADDR="${E2E_REAL_ADDR:-127.0.0.1:3102}"
REAL_DB="sqlite://$DIR/reale.sqlite"
DATABASE_URL="$REAL_DB" "$BIN" demo >> "$DIR/setup.log"
echo "Reale-Regione-2021" | DATABASE_URL="$REAL_DB" "$BIN" user add --email referente@regione.puglia.example \
  --name "Referente Regione" --role regione --password-stdin >> "$DIR/setup.log"
echo "Reale-Comune-2021" | DATABASE_URL="$REAL_DB" "$BIN" user add --email ufficio@comune.lecce.example \
  --name "Ufficio Comune" --role comune --comune 075035 --password-stdin >> "$DIR/setup.log"
DATABASE_URL="$REAL_DB" LEPTOS_SITE_ADDR="$REAL_ADDR" TRAGUARDI_EVIDENCE_STORE="$DIR/evidenze-reale" \
  TRAGUARDI_LOGIN_LIMIT_PER_IP=500 TRAGUARDI_LOGIN_LIMIT_PER_ACCOUNT=500 \
  "$BIN" serve > "$DIR/server-reale.log" 2>&1 &
pids+=($!)
wait_for "http://$REAL_ADDR/healthz" "$DIR/server-reale.log"

DATABASE_URL="$DB" LEPTOS_SITE_ADDR="$ADDR" TRAGUARDI_EVIDENCE_STORE="$DIR/evidenze" \
  TRAGUARDI_OIDC_ISSUER="http://127.0.0.1:$OIDC_PORT" TRAGUARDI_OIDC_CLIENT_ID=traguardi-e2e \
  TRAGUARDI_OIDC_CLIENT_SECRET=e2e-secret TRAGUARDI_LOGIN_LIMIT_PER_IP=500 TRAGUARDI_LOGIN_LIMIT_PER_ACCOUNT=500 \
  "$BIN" serve --demo > "$DIR/server.log" 2>&1 &
pids+=($!)
wait_for "http://$ADDR/healthz" "$DIR/server.log"

cd end2end && BASE_URL="http://$ADDR" REAL_BASE_URL="http://$REAL_ADDR" npx playwright test "$@"
