#!/usr/bin/env bash
# An isolated Docker engine for evt's container runtime (CI and local work on a machine without Docker).
#
#   scripts/docker-engine.sh start    install docker.io (and mmdebstrap) from Debian when missing, start dockerd
#   scripts/docker-engine.sh env      print `export DOCKER_HOST=...` lines for this engine (eval "$(... env)")
#   scripts/docker-engine.sh status   exit 0 when the engine answers
#   scripts/docker-engine.sh stop     stop it and remove what it made outside its folder
#                                     (EVT_DOCKER_KEEP_DATA=0: its folder too, images included)
#
# Everything lives under $EVT_DOCKER_DIR (default /tmp/evt-docker): its own socket (never /var/run/docker.sock),
# data and exec roots, pid file, an empty config file. Published ports bind 127.0.0.1 only, and the machine's
# firewall and sysctls are left alone (no iptables rules, no ip_forward). See docs/containers.md.
set -uo pipefail

DIR="${EVT_DOCKER_DIR:-/tmp/evt-docker}"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"
BRIDGE_CREATED_MARK="$DIR/.made-docker0"

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

say() { echo "docker-engine: $*" >&2; }

answers() {
  [ -S "$SOCK" ] || return 1
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --max-time 2 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1
  else
    DOCKER_HOST="unix://$SOCK" timeout 3 docker version >/dev/null 2>&1
  fi
}

install_engine() {
  local need=()
  command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
  command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
  [ ${#need[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no dockerd and no apt-get: install Docker yourself (https://docs.docker.com/engine/install/)"
    return 1
  fi
  say "installing ${need[*]} from Debian's packages"
  # policy-rc.d (when present) keeps apt from starting a system-wide daemon: this script starts its own.
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
    { say "apt-get install ${need[*]} failed"; return 1; }
}

start() {
  if answers; then say "already running (unix://$SOCK)"; return 0; fi
  install_engine || return 1
  if ! command -v dockerd >/dev/null 2>&1; then say "dockerd is not installed"; return 1; fi
  mkdir -p "$DIR/data" "$DIR/exec"
  chmod 0700 "$DIR"
  [ -f "$DIR/daemon.json" ] || echo '{}' >"$DIR/daemon.json"
  ip link show docker0 >/dev/null 2>&1 || touch "$BRIDGE_CREATED_MARK"
  local driver="${EVT_DOCKER_STORAGE_DRIVER:-overlay2}"
  # setsid: the daemon is not in the caller's process group, so a Ctrl-C in the terminal does not reach it.
  setsid dockerd \
    -H "unix://$SOCK" \
    --data-root "$DIR/data" \
    --exec-root "$DIR/exec" \
    --pidfile "$PIDFILE" \
    --config-file "$DIR/daemon.json" \
    --storage-driver "$driver" \
    --ip 127.0.0.1 \
    --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    </dev/null >"$LOG" 2>&1 &
  local until=$((SECONDS + 30))
  while [ $SECONDS -lt $until ]; do
    if answers; then say "running at unix://$SOCK ($(dockerd --version 2>/dev/null | cut -d, -f1))"; return 0; fi
    sleep 0.1
  done
  say "dockerd did not answer within 30 s; its log ends with:"
  tail -n 15 "$LOG" >&2
  stop >/dev/null 2>&1
  return 1
}

stop() {
  local pid=""
  [ -f "$PIDFILE" ] && pid="$(cat "$PIDFILE" 2>/dev/null)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    # Its containers first (they would be stopped anyway; this keeps the stop short and leaves nothing behind).
    if answers; then
      local ids
      ids="$(DOCKER_HOST="unix://$SOCK" timeout 20 docker ps -aq 2>/dev/null)"
      [ -n "$ids" ] && DOCKER_HOST="unix://$SOCK" timeout 30 docker rm -f -v $ids >/dev/null 2>&1
    fi
    kill -TERM "$pid" 2>/dev/null
    local until=$((SECONDS + 20))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $until ]; do sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { say "dockerd $pid did not stop in 20 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null; sleep 0.5; }
  fi
  # containerd it started (a child of dockerd) goes with it; any shim left from a SIGKILL goes now.
  pkill_own_shims
  # dockerd 20.10 writes these outside its folders.
  $SUDO rm -f /etc/docker/key.json 2>/dev/null
  rmdir /etc/docker 2>/dev/null || true
  $SUDO rm -rf /var/run/docker/plugins /run/containerd/s 2>/dev/null
  rmdir /var/run/docker /run/containerd 2>/dev/null || true
  if ip link show docker0 >/dev/null 2>&1 && { [ -f "$BRIDGE_CREATED_MARK" ] || [ "${1:-}" = "--force-bridge" ]; }; then
    $SUDO ip link delete docker0 2>/dev/null
  fi
  rm -f "$BRIDGE_CREATED_MARK" "$SOCK" "$PIDFILE"
  # overlay mounts under the data root must be gone before the folder can be removed
  if [ "${EVT_DOCKER_KEEP_DATA:-1}" = "0" ]; then
    grep -o " $DIR/[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r m; do umount "$m" 2>/dev/null; done
    rm -rf "$DIR"
  fi
  say "stopped"
}

# containerd-shim processes whose command line names this engine's exec root (only ours, never another engine's).
pkill_own_shims() {
  local p
  for p in $(pgrep -f "containerd-shim" 2>/dev/null); do
    if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "$DIR/"; then kill -KILL "$p" 2>/dev/null; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  status)
    if answers; then echo "running at unix://$SOCK"; else echo "not running"; exit 1; fi
    ;;
  env)
    echo "export DOCKER_HOST=unix://$SOCK"
    echo "export TESTCONTAINERS_RYUK_DISABLED=true"
    echo "export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1"
    ;;
  *)
    echo "usage: $0 start|stop|env|status   (EVT_DOCKER_DIR=${DIR})" >&2
    exit 2
    ;;
esac
