# syntax=docker/dockerfile:1.7
# The app image (Python 3.11): one image for every environment and every role; the process
# role is chosen at run time by ROLES (api, bot, actions, scheduler). Build from the
# repository root:  docker build -f deploy/app.Dockerfile -t app .
# Not built on the development machines (no Docker daemon there): Cloud Build builds it.

ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm
ARG NODE_IMAGE=node:20.18.1-bookworm-slim

# ---- 1. wheels of every dependency (compilers stay in this stage) ---------------------
FROM ${PYTHON_IMAGE} AS wheels
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml ./
# Only the dependency list is copied, so this layer is rebuilt only when it changes; the
# project's own (empty) wheel is dropped: the code is copied as source below.
RUN pip wheel --wheel-dir /wheels . && rm -f /wheels/klinik_wa-*.whl

# ---- 2. the dashboard's one vendored asset (Chart.js from the npm registry) ------------
FROM ${NODE_IMAGE} AS dashboard
WORKDIR /src/dashboard
COPY dashboard/package.json dashboard/package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

# ---- 2b. the web app (React + TypeScript, built by Vite into web/dist, served at /app/) --
FROM ${NODE_IMAGE} AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/index.html web/vite.config.ts web/tsconfig.json ./
COPY web/src/ src/
RUN npm run build

# ---- 3. runtime: no compilers, no pip cache, non-root, read-only root filesystem -------
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_HOST=0.0.0.0 \
    APP_PORT=8080 \
    ACTIONS_HOST=0.0.0.0 \
    ACTIONS_PORT=5056 \
    APP_ENV=production \
    START_RASA=false \
    PHOTO_DIR=/tmp/photos \
    TMPDIR=/tmp
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels /wheels/*.whl \
    && groupadd --system --gid 10001 klinik \
    && useradd --system --uid 10001 --gid klinik --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin klinik
WORKDIR /app
COPY booking/ booking/
COPY app/ app/
COPY api/ api/
COPY bot/ bot/
COPY actions/ actions/
COPY scheduler/ scheduler/
COPY analytics/ analytics/
COPY notify/ notify/
COPY sandbox/ sandbox/
COPY staff/ staff/
COPY dashboard/index.html dashboard/app.js dashboard/style.css dashboard/
COPY --from=dashboard /src/dashboard/node_modules/chart.js/dist/chart.umd.js \
     dashboard/node_modules/chart.js/dist/chart.umd.js
COPY --from=web /src/web/dist/ web/dist/
COPY domain.yml config.yml ./
COPY nlu/ nlu/
# Byte-compile at build time: the root filesystem is read-only at run time.
RUN python -m compileall -q /app
USER 10001:10001
EXPOSE 8080 5056
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2)"]
ENTRYPOINT ["python", "-m", "app"]
