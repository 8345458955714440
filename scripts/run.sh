#!/usr/bin/env bash
# Start the assistant on the embedded default: train the NLU model if the assistant
# changed, start the Rasa server (127.0.0.1:5005, HTTP API behind --auth-token) pointed at
# the app's internal actions listener, then the app with every role (127.0.0.1:$APP_PORT).
# The shared secrets (actions token, Rasa token) are random per start unless given, and
# handed to both processes through their environment only. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
APP_PORT="${KLINIK_APP_PORT:-${APP_PORT:-8080}}"
ACTIONS_PORT="${KLINIK_ACTIONS_PORT:-${ACTIONS_PORT:-5056}}"
START_RASA="${KLINIK_START_RASA:-${START_RASA:-true}}"
random_secret() { .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))'; }
ACTIONS_TOKEN="${KLINIK_ACTIONS_TOKEN:-${ACTIONS_TOKEN:-$(random_secret)}}"
RASA_TOKEN="${KLINIK_RASA_TOKEN:-${RASA_TOKEN:-$(random_secret)}}"
export KLINIK_ACTIONS_PORT="$ACTIONS_PORT" KLINIK_ACTIONS_TOKEN="$ACTIONS_TOKEN" \
  KLINIK_RASA_TOKEN="$RASA_TOKEN"
RASA_PID=""
cleanup() { [ -n "$RASA_PID" ] && kill "$RASA_PID" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ "$START_RASA" = "true" ] || [ "$START_RASA" = "1" ]; then
  SERVED=models/served/current.tar.gz  # promoted by `python -m bot.retrain retrain`
  if [ -f "$SERVED" ]; then
    MODEL="$SERVED"
  else
    .venv/bin/python scripts/rasa_model.py ensure
    MODEL=$(.venv/bin/python scripts/rasa_model.py path)
  fi
  mkdir -p .run
  echo "starting Rasa on 127.0.0.1:5005 (takes about a minute to load the model)"
  ACTIONS_URL="http://127.0.0.1:${ACTIONS_PORT}/webhook/actions" ACTIONS_TOKEN="$ACTIONS_TOKEN" \
    RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 .venv-rasa/bin/rasa run --enable-api \
    --auth-token "$RASA_TOKEN" -i 127.0.0.1 -p 5005 -m "$MODEL" --endpoints endpoints.yml \
    --credentials credentials.yml > .run/rasa.log 2>&1 &
  RASA_PID=$!
fi
echo "app on http://127.0.0.1:${APP_PORT}  (chat: /sandbox/, API docs: /docs, dashboard: /dashboard)"
.venv/bin/python -m app
