#!/usr/bin/env bash
# Start the assistant on the embedded default: train the NLU model if the assistant
# changed, start the Rasa server (127.0.0.1:5005) pointed at the app's actions endpoint,
# then the app with every role (127.0.0.1:$APP_PORT). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
APP_PORT="${KLINIK_APP_PORT:-${APP_PORT:-8080}}"
START_RASA="${KLINIK_START_RASA:-${START_RASA:-true}}"
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
  sed "s#http://127.0.0.1:8080/webhook/actions#http://127.0.0.1:${APP_PORT}/webhook/actions#" \
    endpoints.yml > .run/endpoints.yml
  echo "starting Rasa on 127.0.0.1:5005 (takes about a minute to load the model)"
  RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 .venv-rasa/bin/rasa run --enable-api \
    -i 127.0.0.1 -p 5005 -m "$MODEL" --endpoints .run/endpoints.yml \
    --credentials credentials.yml > .run/rasa.log 2>&1 &
  RASA_PID=$!
fi
echo "app on http://127.0.0.1:${APP_PORT}  (chat: /sandbox/, API docs: /docs, dashboard: /dashboard)"
.venv/bin/python -m app
