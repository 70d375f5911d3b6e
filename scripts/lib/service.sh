# Sourced by scripts/label-studio.sh and scripts/redis.sh: the frame both throwaway servers share. `start`
# writes the server's settings as shell assignments to a state file (one server per state dir), `stop`
# ends the server that file names and deletes the data dir start made, `status` says whether it runs.
#
# The sourcing script sets, before it calls anything here:
#   SERVICE_LOG_NAME  the prefix of its log lines, e.g. redis.sh
#   STATE_FILE        the state file
#   PID_VAR           the name of the state file's variable holding the server's pid
#   DATA_DIR_VAR      the name of the state file's variable holding its data dir
#   DATA_DIR_PREFIX   the name start's `mktemp -d` gives data dirs (rpr-redis-data.XXXXXX → rpr-redis-data);
#                     stop deletes no other directory
# and defines cmd_start, stop_server PID (ends a running server: its own signals and patience) and
# status_line (what `status` says after "running: "). It may redefine after_stop, run once a state file
# has been dealt with.

log() { printf '[%s] %s\n' "$SERVICE_LOG_NAME" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The named variables as shell assignments for `eval "$(script start)"`, then one line exporting them.
print_assignments() {
  local name
  for name in "$@"; do printf '%s=%q\n' "$name" "${!name}"; done
  printf 'export %s\n' "$*"
}

# Loads the state file; true when the server it names is alive.
is_running() {
  [ -f "$STATE_FILE" ] || return 1
  # shellcheck disable=SC1090
  . "$STATE_FILE"
  kill -0 "${!PID_VAR}" 2>/dev/null
}

# SIGTERM to PID, up to TRIES × PAUSE seconds for it to go, then SIGKILL. With `group`, both signals go to
# the process group PID leads (a server's children too); TERM falls back to PID alone.
end_process() {
  local pid=$1 tries=$2 pause=$3 group=${4:-}
  if [ "$group" = group ]; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
  else
    kill -TERM "$pid"
  fi
  for _ in $(seq 1 "$tries"); do kill -0 "$pid" 2>/dev/null || break; sleep "$pause"; done
  if kill -0 "$pid" 2>/dev/null; then
    if [ "$group" = group ]; then kill -KILL -- "-$pid" 2>/dev/null; else kill -KILL "$pid"; fi
  fi
}

after_stop() { :; }

cmd_stop() {
  if ! [ -f "$STATE_FILE" ]; then
    log "not running (no $STATE_FILE)"
    return
  fi
  # shellcheck disable=SC1090
  . "$STATE_FILE"
  local pid=${!PID_VAR} data_dir=${!DATA_DIR_VAR}
  if kill -0 "$pid" 2>/dev/null; then
    stop_server "$pid"
    log "stopped pid $pid"
  else
    log "pid $pid was not running"
  fi
  case "$data_dir" in
    */"$DATA_DIR_PREFIX".*) rm -rf -- "$data_dir" ;;
    *) log "left $data_dir in place: not a directory this script created" ;;
  esac
  rm -f "$STATE_FILE"
  after_stop
}

cmd_status() {
  if is_running; then
    echo "running: $(status_line)"
  else
    echo "not running"
    return 1
  fi
}

# The script's command line: start, stop or status.
run_command() {
  case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
  esac
}
