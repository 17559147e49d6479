#!/usr/bin/env bash
# Installs and starts what Weft's Docker and transparent-interception tests use, from Debian; safe to run again.
#   docker.io  the Docker engine (dockerd, containerd, runc) and its client; started here in the background
#   iptables   weft-init's rules (nat table), in network namespaces and containers the tests make
#   iproute2   `ip netns` and veth pairs for weft-init's tests
# No registry is reachable, so nothing is pulled: the tests build their images from a base made of local files
# (scripts/docker/make-local-base.sh).
set -euo pipefail
# shellcheck source=lib/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

packages=(docker.io iptables iproute2)
# --hold-services: the package's own service start is skipped; the engine is started below, the same way everywhere.
apt_install_missing --hold-services setup-docker "${packages[@]}"

log=${WEFT_DOCKERD_LOG:-/var/log/weft-dockerd.log}
pidfile=/var/run/docker.pid
if ! docker info >/dev/null 2>&1; then
  # An engine that was killed rather than stopped leaves its pid file behind, and a new one refuses to start while
  # that file exists: remove it unless the pid in it is a dockerd that is still starting.
  running=""
  if [[ -f $pidfile ]]; then
    pid=$(cat "$pidfile")
    # Field 3 of /proc/<pid>/stat is the state; Z is a dead process not yet reaped.
    { read -r _ comm state _ <"/proc/$pid/stat"; } 2>/dev/null || true
    if [[ ${comm:-} == "(dockerd)" && ${state:-Z} != Z ]]; then running=yes; fi
  fi
  if [[ -z $running ]]; then
    rm -f "$pidfile" /var/run/docker/containerd/containerd.pid
    echo "setup-docker: starting dockerd (log: $log)"
    nohup dockerd >"$log" 2>&1 </dev/null &
  fi
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
fi
if ! docker info >/dev/null 2>&1; then
  echo "setup-docker: the Docker engine did not answer within 30 s; the last lines of $log:" >&2
  tail -n 20 "$log" >&2 || true
  exit 1
fi
echo "setup-docker: ok ($(docker version --format 'engine {{.Server.Version}}'), ${packages[*]})"
