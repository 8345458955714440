#!/usr/bin/env bash
# What the two commands need from the machine, in one place (used by make and .ci/run).
#
#   scripts/prereqs.sh ensure python3.11 python3.10 node redis chromium
#       check each; as root on Debian/Ubuntu install what is missing with apt-get (services
#       of installed packages are not started), otherwise print exactly what to install.
#       Exit 1 when something is still missing. PREREQS_INSTALL=0: only check and tell.
#   scripts/prereqs.sh doctor        what is present and missing, a line each (exit 0)
#   scripts/prereqs.sh python 3.10   print a working Python 3.10 interpreter (exit 1: none)
#
# `make run` needs python3.11, python3.10 and node (npm); `make test` also redis
# (redis-server: the tests start their own on a free port) and chromium (browser tests).
set -uo pipefail
cd "$(dirname "$0")/.."
CHROMIUM=/usr/bin/chromium  # the path the browser tests launch

# ---- finding things --------------------------------------------------------------------
find_python() {  # $1 = 3.10: print a working interpreter of exactly that version
  local want=$1 cand
  for cand in "$(command -v "python$want")" \
              $(ls -d "$HOME"/.pyenv/versions/"$want".*/bin/python"$want" 2>/dev/null | sort -rV) \
              "/usr/bin/python$want"; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    # the interpreter itself (not a pyenv shim), if it runs and is that version
    "$cand" -c "import sys; v = sys.version_info
print(sys.executable) if f'{v[0]}.{v[1]}' == '$want' else sys.exit(1)" 2>/dev/null && return 0
  done
  return 1
}

has_venv() { "$1" -c 'import ensurepip, venv' 2>/dev/null; }  # Debian splits off pythonX.Y-venv

present() {  # $1 = requirement: exit 0 when it is there and usable
  case $1 in
    python3.1[01]) local py; py=$(find_python "${1#python}") && has_venv "$py" ;;
    node) command -v node >/dev/null && command -v npm >/dev/null ;;
    redis) command -v redis-server >/dev/null || [ -x /usr/sbin/redis-server ] ;;
    chromium) [ -x "$CHROMIUM" ] ;;
    docker-compose) command -v docker-compose >/dev/null ;;
    *) echo "prereqs.sh: unknown requirement '$1'" >&2; exit 2 ;;
  esac
}

apt_packages() {  # $1 = requirement: the Debian/Ubuntu packages that provide it
  case $1 in
    python3.1[01]) echo "$1 $1-venv" ;;
    node) echo "nodejs npm" ;;
    redis) echo "redis-server" ;;
    chromium) echo "chromium" ;;
    docker-compose) echo "docker-compose" ;;
  esac
}

# ---- installing --------------------------------------------------------------------------
can_install() { [ "${PREREQS_INSTALL:-1}" != 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

apt_knows() {  # $@ = packages: each has an install candidate in apt's package lists
  local pkg
  for pkg in "$@"; do
    # no grep -q: it would close the pipe early, and pipefail would call that a failure
    apt-cache policy "$pkg" 2>/dev/null | grep 'Candidate: [^(]' >/dev/null || return 1
  done
}

apt_install() {  # $@ = packages; Debian's policy-rc.d keeps their services (redis) stopped
  local policy=/usr/sbin/policy-rc.d own_policy="" rc
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && own_policy=1
  fi
  echo "installing with apt-get: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  rc=$?
  [ -n "$own_policy" ] && rm -f "$policy"
  return $rc
}

how_to_get() {  # $1 = requirement: what a person should run to get it
  case $1 in
    python3.10) echo "Python 3.10 (Rasa 3.6 runs only on 3.8-3.10): pyenv install 3.10" ;;
    python3.11) echo "Python 3.11: pyenv install 3.11" ;;
    node) echo "Node.js with npm" ;;
    redis) echo "redis-server (Redis 6 or newer; the tests start it themselves)" ;;
    chromium) echo "Chromium at $CHROMIUM (the browser tests launch it there)" ;;
    docker-compose) echo "docker-compose (Debian's package; tests/deploy runs docker-compose config)" ;;
  esac
}

ensure() {  # $@ = requirements
  local req missing=() pkgs=() apt_missing=() others=()
  for req in "$@"; do present "$req" || missing+=("$req"); done
  if [ ${#missing[@]} -gt 0 ] && can_install; then
    apt-get update -qq >/dev/null 2>&1
    for req in "${missing[@]}"; do
      # shellcheck disable=SC2046,SC2207 # word splitting wanted: a list of packages
      if apt_knows $(apt_packages "$req"); then pkgs+=($(apt_packages "$req")); fi
    done
    [ ${#pkgs[@]} -gt 0 ] && apt_install "${pkgs[@]}"
    local still=()
    for req in "${missing[@]}"; do present "$req" || still+=("$req"); done
    missing=("${still[@]+"${still[@]}"}")
  fi
  if [ ${#missing[@]} -eq 0 ]; then
    echo "prerequisites ok: $*"
    return 0
  fi
  for req in "${missing[@]}"; do
    # Pythons that apt cannot give (Debian 12 has no 3.10) come from pyenv.
    # shellcheck disable=SC2046
    if command -v apt-get >/dev/null && { [[ $req != python* ]] || apt_knows $(apt_packages "$req"); }; then
      # shellcheck disable=SC2207 # word splitting wanted: a list of packages
      apt_missing+=($(apt_packages "$req"))
    else
      others+=("$(how_to_get "$req")")
    fi
  done
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo "
  echo "missing: ${missing[*]}" >&2
  [ ${#apt_missing[@]} -gt 0 ] && echo "  install with: ${sudo}apt-get install -y ${apt_missing[*]}" >&2
  for req in "${others[@]+"${others[@]}"}"; do echo "  install $req" >&2; done
  return 1
}

# ---- doctor ------------------------------------------------------------------------------
line() { printf '%-8s %-13s %s\n' "$1" "$2" "$3"; }

doctor() {
  local py v
  for v in 3.11 3.10; do
    if py=$(find_python "$v"); then
      if has_venv "$py"; then line ok "python $v" "$py ($("$py" -V 2>&1 | cut -d' ' -f2))"
      else line MISSING "python $v" "$py has no venv module: apt-get install python$v-venv"; fi
    else line MISSING "python $v" "$(how_to_get "python$v")"; fi
  done
  if present node; then line ok "node/npm" "node $(node --version), npm $(npm --version 2>/dev/null)"
  else line MISSING "node/npm" "make run needs them: apt-get install nodejs npm"; fi
  if present redis; then
    line ok redis "redis-server $(redis-server --version 2>/dev/null | sed 's/.* v=\([^ ]*\).*/\1/'); tests start their own on a free port${TEST_REDIS_URL:+ (TEST_REDIS_URL is set: they use that)}; make run uses fakeredis"
  else line MISSING redis "make test needs redis-server (installs it as root)"; fi
  if present chromium; then line ok chromium "$("$CHROMIUM" --version 2>/dev/null | head -1)"
  else line MISSING chromium "browser tests need $CHROMIUM (make test installs Debian's chromium as root)"; fi
  local free_gb; free_gb=$(df -Pk . | awk 'NR==2 {printf "%d", $4 / 1048576}')
  if [ "$free_gb" -ge 5 ]; then line ok disk "${free_gb} GB free (both environments take ~3.5 GB)"
  else line LOW disk "${free_gb} GB free; both environments take ~3.5 GB"; fi
  local envs=""
  [ .venv/.stamp -nt pyproject.toml ] && envs+=".venv " || envs+=".venv(stale) "
  [ .venv-rasa/.stamp -nt rasa_env/requirements.txt ] && envs+=".venv-rasa " || envs+=".venv-rasa(stale) "
  [ -f dashboard/node_modules/.stamp ] && envs+="dashboard/node_modules " || envs+="dashboard/node_modules(missing) "
  [ -f web/dist/index.html ] && envs+="web/dist" || envs+="web/dist(missing)"
  if [[ $envs == *"("* ]]; then line TODO environments "$envs: make install (make run/test do it)"
  else line ok environments "$envs"; fi
  local model
  if [ -x .venv/bin/python ] && model=$(.venv/bin/python scripts/rasa_model.py path 2>/dev/null); then
    line ok model "${model#"$PWD"/}"
  else line TODO model "not trained for the current assistant: make run/test train it (~4 min)"; fi
}

case ${1:-doctor} in
  ensure) shift; ensure "$@" ;;
  doctor) doctor ;;
  python) find_python "$2" ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
