#!/usr/bin/env bash
# Start the assistant on the embedded default: train the NLU model if the assistant
# changed, start RASA_REPLICAS Rasa servers (127.0.0.1:5005, 5006, ...; HTTP API behind
# --auth-token; conversations in Redis when a Redis server is there) pointed at the app's
# internal actions listener, then the app with every role (127.0.0.1:$APP_PORT).
# Every Rasa replica pulls its model from the app's model server (internal listener,
# /models/current.tar.gz, every MODEL_PULL_SECONDS): the base model below until an admin
# promotes a retrained one (POST /admin/nlu/models/{id}/promote), then that one.
# The shared secrets (actions token, Rasa token) are random per start unless given, and
# handed to both sides through their environment only. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
APP_PORT="${KLINIK_APP_PORT:-${APP_PORT:-8080}}"
ACTIONS_PORT="${KLINIK_ACTIONS_PORT:-${ACTIONS_PORT:-5056}}"
START_RASA="${KLINIK_START_RASA:-${START_RASA:-true}}"
RASA_REPLICAS="${KLINIK_RASA_REPLICAS:-${RASA_REPLICAS:-1}}"
RASA_FIRST_PORT=5005
random_secret() { .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))'; }
ACTIONS_TOKEN="${KLINIK_ACTIONS_TOKEN:-${ACTIONS_TOKEN:-$(random_secret)}}"
RASA_TOKEN="${KLINIK_RASA_TOKEN:-${RASA_TOKEN:-$(random_secret)}}"
export KLINIK_ACTIONS_PORT="$ACTIONS_PORT" KLINIK_ACTIONS_TOKEN="$ACTIONS_TOKEN" \
  KLINIK_RASA_TOKEN="$RASA_TOKEN"
RASA_PIDS=()
cleanup() { for pid in "${RASA_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if [ "$START_RASA" = "true" ] || [ "$START_RASA" = "1" ]; then
  .venv/bin/python scripts/rasa_model.py ensure
  MODEL=$(.venv/bin/python scripts/rasa_model.py path)
  # served until a retrained model is promoted (the app puts it into its model store)
  export KLINIK_NLU_BASE_MODEL="${KLINIK_NLU_BASE_MODEL:-${NLU_BASE_MODEL:-$MODEL}}"
  mkdir -p .run
  .venv/bin/python -m bot.rasa_endpoints --out .run/endpoints.yml \
    --model-server-url "http://127.0.0.1:${ACTIONS_PORT}/models/current.tar.gz"
  RASA_REDIS_PASSWORD=$(.venv/bin/python -c 'import os, urllib.parse as u
url = os.environ.get("KLINIK_REDIS_URL") or os.environ.get("REDIS_URL") or ""
print(u.unquote(u.urlparse(url).password or ""))')
  URLS=()
  for ((i = 0; i < RASA_REPLICAS; i++)); do
    port=$((RASA_FIRST_PORT + i))
    URLS+=("http://127.0.0.1:${port}")
    echo "starting Rasa on 127.0.0.1:${port} (takes about a minute to load the model)"
    ACTIONS_URL="http://127.0.0.1:${ACTIONS_PORT}/webhook/actions" ACTIONS_TOKEN="$ACTIONS_TOKEN" \
      RASA_REDIS_PASSWORD="$RASA_REDIS_PASSWORD" RASA_TELEMETRY_ENABLED=false \
      TF_CPP_MIN_LOG_LEVEL=2 .venv-rasa/bin/python rasa_env/launch.py run --enable-api \
      --auth-token "$RASA_TOKEN" \
      -i 127.0.0.1 -p "$port" -m "$MODEL" --endpoints .run/endpoints.yml \
      --credentials credentials.yml > ".run/rasa-${i}.log" 2>&1 &
    RASA_PIDS+=($!)
  done
  KLINIK_RASA_URLS=$(IFS=,; echo "${URLS[*]}")
  export KLINIK_RASA_URLS
fi
echo "app on http://127.0.0.1:${APP_PORT}  (chat: /sandbox/, API docs: /docs, dashboard: /dashboard)"
.venv/bin/python -m app
