#!/usr/bin/env bash
# Starts a throwaway Label Studio on loopback for the integration tests and for trying rpr-select by hand.
#
#   eval "$(scripts/label-studio.sh start)"   # prints only LABEL_STUDIO_* shell assignments on stdout
#   scripts/label-studio.sh status
#   scripts/label-studio.sh stop              # kills the server it started and deletes its data dir
#
# Environment (all optional):
#   LS_VERSION        label-studio version from PyPI (default 1.23.2)
#   LS_VENV           virtualenv (default ${XDG_CACHE_HOME:-$HOME/.cache}/rpr-select/label-studio-venv),
#                     reused when it already holds LS_VERSION
#   LS_PYTHON         interpreter that creates the virtualenv (default python3, needs >= 3.10)
#   LS_PORT           port on 127.0.0.1 (default: a free one)
#   LS_DOCUMENT_ROOT  root for /data/local-files/?d=... URLs (default /)
#   LS_START_TIMEOUT  seconds to wait for /health (default 300)
#   LS_STATE_DIR      pid/state/log files (default ${XDG_RUNTIME_DIR:-/tmp}/rpr-select-label-studio-$UID)
#   LS_ACCESS_TOKEN_LIFETIME_S  seconds an access token lives, the short-lived token a personal access
#                     token is exchanged for (default: the server's own, 300). A short one (the tests use 30)
#                     lets the integration tests see a token really expire; it applies to the server this
#                     start launches, through a settings module written under LS_STATE_DIR.
#   LABEL_STUDIO_USERNAME / LABEL_STUDIO_PASSWORD  the account created on first boot
#                     (default rpr@example.com / rpr-select-password)
#
# Besides URL and keys, start prints LABEL_STUDIO_ACCESS_TOKEN_LIFETIME_S: the lifetime the server's access
# tokens really have, read from one it issued.
set -euo pipefail

LS_VERSION="${LS_VERSION:-1.23.2}"
LS_VENV="${LS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/rpr-select/label-studio-venv}"
LS_PYTHON="${LS_PYTHON:-python3}"
LS_HOST=127.0.0.1
LS_DOCUMENT_ROOT="${LS_DOCUMENT_ROOT:-/}"
LS_START_TIMEOUT="${LS_START_TIMEOUT:-300}"
LS_STATE_DIR="${LS_STATE_DIR:-${XDG_RUNTIME_DIR:-/tmp}/rpr-select-label-studio-$(id -u)}"
LS_USERNAME="${LABEL_STUDIO_USERNAME:-rpr@example.com}"
LS_PASSWORD="${LABEL_STUDIO_PASSWORD:-rpr-select-password}"
STATE_FILE="$LS_STATE_DIR/state.env"
SETTINGS_DIR="$LS_STATE_DIR/settings"
SETTINGS_MODULE=rpr_label_studio_settings
LOG_FILE="$LS_STATE_DIR/label-studio.log"
SERVICE_LOG_NAME=label-studio.sh
PID_VAR=LABEL_STUDIO_PID
DATA_DIR_VAR=LABEL_STUDIO_DATA_DIR
DATA_DIR_PREFIX=rpr-label-studio-data
# shellcheck source=scripts/lib/service.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/service.sh"

installed_version() {
  [ -x "$LS_VENV/bin/python" ] || return 1
  "$LS_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("label-studio"))' 2>/dev/null
}

ensure_installed() {
  local have
  have="$(installed_version || true)"
  if [ "$have" = "$LS_VERSION" ]; then
    log "reusing label-studio $have in $LS_VENV"
    return
  fi
  local started=$SECONDS
  log "installing label-studio==$LS_VERSION into $LS_VENV (takes minutes; log: $LS_STATE_DIR/install.log)"
  mkdir -p "$(dirname "$LS_VENV")"
  [ -x "$LS_VENV/bin/python" ] || "$LS_PYTHON" -m venv "$LS_VENV" >&2 \
    || die "cannot create a virtualenv with $LS_PYTHON; set LS_PYTHON to a Python >= 3.10 with venv"
  if ! "$LS_VENV/bin/pip" install --disable-pip-version-check "label-studio==$LS_VERSION" \
      >"$LS_STATE_DIR/install.log" 2>&1; then
    tail -n 20 "$LS_STATE_DIR/install.log" >&2
    die "pip install label-studio==$LS_VERSION failed; full log: $LS_STATE_DIR/install.log"
  fi
  log "installed in $((SECONDS - started)) s"
}

free_port() {
  "$LS_VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# GET/POST with the legacy token; prints the body, fails on a non-2xx status.
api() {
  local method=$1 path=$2
  "$LS_VENV/bin/python" - "$method" "$LABEL_STUDIO_URL$path" "$LABEL_STUDIO_API_KEY" <<'PY'
import sys, urllib.request
method, url, key = sys.argv[1:4]
req = urllib.request.Request(url, method=method, headers={"Authorization": "Token " + key, "Content-Type": "application/json"}, data=b"{}" if method == "POST" else None)
with urllib.request.urlopen(req, timeout=30) as r:
    sys.stdout.write(r.read().decode())
PY
}

# Label Studio's own settings with SimpleJWT's ACCESS_TOKEN_LIFETIME replaced (LS 1.23 leaves SIMPLE_JWT unset,
# so SimpleJWT's 5-minute default applies; label_studio/server.py only setdefaults DJANGO_SETTINGS_MODULE).
# While LS's settings module runs it reads django.conf.settings (Sentry's setup), which Django answers by
# importing the module DJANGO_SETTINGS_MODULE names: that must be LS's own, not this half-imported one.
write_settings() {
  local seconds=$1
  mkdir -p "$SETTINGS_DIR"
  cat >"$SETTINGS_DIR/$SETTINGS_MODULE.py" <<PY
# Written by scripts/label-studio.sh for LS_ACCESS_TOKEN_LIFETIME_S=$seconds.
import os
from datetime import timedelta

os.environ['DJANGO_SETTINGS_MODULE'] = 'label_studio.core.settings.label_studio'
from label_studio.core.settings.label_studio import *  # noqa: E402,F401,F403

os.environ['DJANGO_SETTINGS_MODULE'] = __name__
SIMPLE_JWT = {**globals().get('SIMPLE_JWT', {}), 'ACCESS_TOKEN_LIFETIME': timedelta(seconds=$seconds)}
PY
}

# exp − iat of an access token the server issues for the PAT.
access_token_lifetime() {
  "$LS_VENV/bin/python" - "$LABEL_STUDIO_URL/api/token/refresh/" "$LABEL_STUDIO_PAT" <<'PY'
import base64, json, sys, urllib.request
url, pat = sys.argv[1:3]
req = urllib.request.Request(url, method="POST", data=json.dumps({"refresh": pat}).encode(), headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=30) as r:
    access = json.load(r)["access"]
payload = access.split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
print(claims["exp"] - claims["iat"])
PY
}

wait_healthy() {
  local deadline=$((SECONDS + LS_START_TIMEOUT))
  until "$LS_VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' \
      "$LABEL_STUDIO_URL/health" 2>/dev/null; do
    kill -0 "$LABEL_STUDIO_PID" 2>/dev/null || { tail -n 30 "$LOG_FILE" >&2; die "label-studio exited during start; log: $LOG_FILE"; }
    [ $SECONDS -lt $deadline ] || { tail -n 30 "$LOG_FILE" >&2; die "no answer from $LABEL_STUDIO_URL/health after ${LS_START_TIMEOUT}s (LS_START_TIMEOUT); log: $LOG_FILE"; }
    sleep 1
  done
}

print_env() {
  print_assignments LABEL_STUDIO_URL LABEL_STUDIO_API_KEY LABEL_STUDIO_PAT LABEL_STUDIO_PID LABEL_STUDIO_DATA_DIR \
    LABEL_STUDIO_DOCUMENT_ROOT LABEL_STUDIO_ACCESS_TOKEN_LIFETIME_S
}

cmd_start() {
  mkdir -p "$LS_STATE_DIR"
  if is_running; then
    log "already running at $LABEL_STUDIO_URL (pid $LABEL_STUDIO_PID)"
    if [ -n "${LS_ACCESS_TOKEN_LIFETIME_S:-}" ] && [ "$LS_ACCESS_TOKEN_LIFETIME_S" != "${LABEL_STUDIO_ACCESS_TOKEN_LIFETIME_S:-}" ]; then
      log "warning: its access tokens live ${LABEL_STUDIO_ACCESS_TOKEN_LIFETIME_S:-an unknown number of} s, not LS_ACCESS_TOKEN_LIFETIME_S=$LS_ACCESS_TOKEN_LIFETIME_S; stop it first to change that"
    fi
    print_env
    return
  fi
  [ -d "$LS_DOCUMENT_ROOT" ] || die "LS_DOCUMENT_ROOT=$LS_DOCUMENT_ROOT is not a directory"
  local settings=()
  if [ -n "${LS_ACCESS_TOKEN_LIFETIME_S:-}" ]; then
    [[ "$LS_ACCESS_TOKEN_LIFETIME_S" =~ ^[1-9][0-9]*$ ]] \
      || die "LS_ACCESS_TOKEN_LIFETIME_S=$LS_ACCESS_TOKEN_LIFETIME_S is not a whole number of seconds (e.g. 30)"
    write_settings "$LS_ACCESS_TOKEN_LIFETIME_S"
    settings=("DJANGO_SETTINGS_MODULE=$SETTINGS_MODULE" "PYTHONPATH=$SETTINGS_DIR${PYTHONPATH:+:$PYTHONPATH}")
  fi
  ensure_installed

  local started=$SECONDS port
  port="${LS_PORT:-$(free_port)}"
  LABEL_STUDIO_DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/rpr-label-studio-data.XXXXXX")"
  LABEL_STUDIO_URL="http://$LS_HOST:$port"
  LABEL_STUDIO_DOCUMENT_ROOT="$LS_DOCUMENT_ROOT"
  # A planted legacy token (40 hex chars, the server's maximum) so no interactive step is needed.
  LABEL_STUDIO_API_KEY="$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')"
  LABEL_STUDIO_PAT=""
  LABEL_STUDIO_ACCESS_TOKEN_LIFETIME_S=""

  # ML_BLOCK_LOCAL_IP=false and USE_DEFAULT_BANNED_SUBNETS=false: the ML backend the tests connect listens on
  # loopback, and LS refuses ML backends (and their webhooks) on reserved addresses by default. Acceptable for
  # a throwaway server bound to 127.0.0.1; do not copy these two into a shared deployment.
  # setsid: the server gets its own process group, so `stop` ends it and the children it spawns.
  LABEL_STUDIO_BASE_DATA_DIR="$LABEL_STUDIO_DATA_DIR" \
  LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true \
  LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT="$LS_DOCUMENT_ROOT" \
  LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
  LABEL_STUDIO_ML_BLOCK_LOCAL_IP=false \
  LABEL_STUDIO_USE_DEFAULT_BANNED_SUBNETS=false \
  LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true \
  COLLECT_ANALYTICS=false \
  env ${settings[@]+"${settings[@]}"} setsid "$LS_VENV/bin/label-studio" start --no-browser --data-dir "$LABEL_STUDIO_DATA_DIR" \
    --internal-host "$LS_HOST" --port "$port" \
    --username "$LS_USERNAME" --password "$LS_PASSWORD" \
    --user-token "$LABEL_STUDIO_API_KEY" --enable-legacy-api-token \
    </dev/null >"$LOG_FILE" 2>&1 &
  LABEL_STUDIO_PID=$!
  write_state
  log "started pid $LABEL_STUDIO_PID at $LABEL_STUDIO_URL, data dir $LABEL_STUDIO_DATA_DIR, log $LOG_FILE"

  wait_healthy
  # A personal access token (JWT refresh token) besides the legacy key, so both auth schemes can be used.
  LABEL_STUDIO_PAT="$(api POST /api/token/ | "$LS_VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["token"])')" \
    || die "could not create a personal access token at $LABEL_STUDIO_URL/api/token/; log: $LOG_FILE"
  LABEL_STUDIO_ACCESS_TOKEN_LIFETIME_S="$(access_token_lifetime)" \
    || die "could not exchange the personal access token at $LABEL_STUDIO_URL/api/token/refresh/; log: $LOG_FILE"
  if [ -n "${LS_ACCESS_TOKEN_LIFETIME_S:-}" ] && [ "$LABEL_STUDIO_ACCESS_TOKEN_LIFETIME_S" != "$LS_ACCESS_TOKEN_LIFETIME_S" ]; then
    die "asked for access tokens of ${LS_ACCESS_TOKEN_LIFETIME_S} s (LS_ACCESS_TOKEN_LIFETIME_S) but the server issues ${LABEL_STUDIO_ACCESS_TOKEN_LIFETIME_S} s ones: $SETTINGS_DIR/$SETTINGS_MODULE.py was not applied; log: $LOG_FILE"
  fi
  write_state
  log "ready in $((SECONDS - started)) s"
  print_env
}

write_state() {
  print_env >"$STATE_FILE"
  chmod 600 "$STATE_FILE"
}

# setsid made the server a process group leader: the group takes its children (workers) with it.
stop_server() {
  end_process "$1" 20 0.5 group
}

# The access-token settings module belongs to the server just stopped.
after_stop() {
  rm -rf -- "$SETTINGS_DIR"
}

status_line() {
  echo "$LABEL_STUDIO_URL (pid $LABEL_STUDIO_PID, data dir $LABEL_STUDIO_DATA_DIR, log $LOG_FILE)"
}

run_command "$@"
