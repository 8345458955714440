# syntax=docker/dockerfile:1.7
# The Rasa image (Python 3.10, rasa 3.6 pinned in rasa_env/requirements.txt) with the
# trained model baked in: the model is trained in the build stage from the assistant's
# files (fixed seeds, so the same files give the same model). Build from the repository
# root:  docker build -f deploy/rasa.Dockerfile -t rasa .
# Not built on the development machines (no Docker daemon there): Cloud Build builds it.

ARG PYTHON_IMAGE=python:3.10.16-slim-bookworm

# ---- 1. the Rasa environment in a venv, and the trained model ---------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2
COPY rasa_env/requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/rasa \
    && /opt/rasa/bin/pip install 'pip<25' wheel \
    && /opt/rasa/bin/pip install -r /tmp/requirements.txt
WORKDIR /assistant
COPY domain.yml config.yml ./
COPY nlu/ nlu/
COPY dialogue/ dialogue/
RUN /opt/rasa/bin/rasa train --fixed-model-name current --out /assistant/models \
    --domain domain.yml --config config.yml --data nlu dialogue

# ---- 2. runtime: the venv, the model, the endpoint files; non-root --------------------
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/rasa/bin:$PATH \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp \
    TMPDIR=/tmp \
    RASA_ENDPOINTS=/etc/rasa/endpoints.yml
RUN groupadd --system --gid 10001 rasa \
    && useradd --system --uid 10001 --gid rasa --no-create-home --home-dir /tmp \
       --shell /usr/sbin/nologin rasa
COPY --from=build /opt/rasa /opt/rasa
# `rasa` with the action server's answers checked by a validator built once (see the file)
COPY rasa_env/launch.py /opt/rasa/launch.py
WORKDIR /app
COPY --from=build /assistant/models/current.tar.gz models/current.tar.gz
COPY credentials.yml ./
USER 10001:10001
EXPOSE 5005
HEALTHCHECK --interval=30s --timeout=3s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/', timeout=2)"]
# RASA_TOKEN (required) guards the HTTP API. The endpoints file is mounted at
# /etc/rasa/endpoints.yml (deploy/k8s/base/rasa-endpoints.yml; the gke overlay's TLS
# variant) and reads ACTIONS_URL, ACTIONS_TOKEN and the Redis settings from the
# environment. A mounted model may replace the baked one (RASA_MODEL).
ENTRYPOINT ["sh", "-c", "test -n \"$RASA_TOKEN\" || { echo 'RASA_TOKEN is required' >&2; exit 64; }; exec python /opt/rasa/launch.py run --enable-api --auth-token \"$RASA_TOKEN\" -i 0.0.0.0 -p 5005 -m \"${RASA_MODEL:-/app/models/current.tar.gz}\" --endpoints \"$RASA_ENDPOINTS\" --credentials /app/credentials.yml \"$@\"", "rasa"]
