#!/usr/bin/env bash
# Starts a throwaway Redis on loopback for `select --distributed`, its workers, and the tests.
#
#   eval "$(scripts/redis.sh start)"   # prints only REDIS_* shell assignments on stdout
#   scripts/redis.sh status
#   scripts/redis.sh stop              # shuts down the server it started and deletes its data dir
#
# Environment (all optional):
#   REDIS_PORT        port on 127.0.0.1 (default: a free one)
#   REDIS_STATE_DIR   pid/state files (default ${XDG_RUNTIME_DIR:-/tmp}/rpr-select-redis-$UID); one server
#                     per state dir, so parallel test runs each pass their own
#   REDIS_START_TIMEOUT  seconds to wait for PONG (default 20)
#
# redis-server comes from Debian's package `redis-server`, installed with apt-get when missing (as root,
# or through sudo when it is available without a password). Nothing is persisted: no RDB, no AOF.
set -euo pipefail

REDIS_HOST=127.0.0.1
REDIS_STATE_DIR="${REDIS_STATE_DIR:-${XDG_RUNTIME_DIR:-/tmp}/rpr-select-redis-$(id -u)}"
REDIS_START_TIMEOUT="${REDIS_START_TIMEOUT:-20}"
STATE_FILE="$REDIS_STATE_DIR/state.env"
SERVICE_LOG_NAME=redis.sh
PID_VAR=REDIS_PID
DATA_DIR_VAR=REDIS_DATA_DIR
DATA_DIR_PREFIX=rpr-redis-data
# shellcheck source=scripts/lib/service.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/service.sh"

ensure_installed() {
  command -v redis-server >/dev/null 2>&1 && return
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null \
      || die "redis-server is not installed and installing it needs root: apt-get install -y redis-server"
    sudo=(sudo -n)
  fi
  command -v apt-get >/dev/null 2>&1 || die "redis-server is not installed and there is no apt-get; install Redis >= 6.2 by hand"
  log "installing redis-server from Debian's packages (apt-get)"
  if ! { DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq redis-server; } >&2; then
    die "apt-get install redis-server failed"
  fi
}

# A free TCP port on 127.0.0.1, asked of the kernel (bind to port 0) through node, which the project needs anyway.
free_port() {
  node -e 'const s = require("node:net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

print_env() {
  print_assignments REDIS_URL REDIS_PID REDIS_DATA_DIR
}

ping() {
  [ "$(redis-cli -h "$REDIS_HOST" -p "$1" ping 2>/dev/null)" = "PONG" ]
}

cmd_start() {
  mkdir -p "$REDIS_STATE_DIR"
  if is_running; then
    log "already running at $REDIS_URL (pid $REDIS_PID)"
    print_env
    return
  fi
  ensure_installed
  local port
  port="${REDIS_PORT:-$(free_port)}"
  REDIS_DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/rpr-redis-data.XXXXXX")"
  REDIS_URL="redis://$REDIS_HOST:$port"
  redis-server --bind "$REDIS_HOST" --port "$port" --protected-mode yes \
    --dir "$REDIS_DATA_DIR" --save '' --appendonly no \
    --daemonize yes --pidfile "$REDIS_DATA_DIR/redis.pid" --logfile "$REDIS_DATA_DIR/redis.log" >&2 \
    || die "redis-server did not start on port $port; log: $REDIS_DATA_DIR/redis.log"
  local deadline=$((SECONDS + REDIS_START_TIMEOUT))
  until ping "$port"; do
    [ $SECONDS -lt $deadline ] || { tail -n 20 "$REDIS_DATA_DIR/redis.log" >&2 || true; die "no PONG from $REDIS_URL after ${REDIS_START_TIMEOUT}s; log: $REDIS_DATA_DIR/redis.log"; }
    sleep 0.1
  done
  REDIS_PID="$(cat "$REDIS_DATA_DIR/redis.pid")"
  print_env >"$STATE_FILE"
  log "started pid $REDIS_PID at $REDIS_URL, data dir $REDIS_DATA_DIR"
  print_env
}

stop_server() {
  end_process "$1" 50 0.1
}

status_line() {
  echo "$REDIS_URL (pid $REDIS_PID, data dir $REDIS_DATA_DIR)"
}

run_command "$@"
