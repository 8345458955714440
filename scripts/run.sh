#!/usr/bin/env bash
# Start the assistant on the embedded default: the app (all roles) and, when a
# model exists, the Rasa server. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m app
