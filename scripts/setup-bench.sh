#!/usr/bin/env bash
# Installs the load tools and reference proxies the side-by-side benchmark (apps/bench) uses, from Debian; safe to run again.
#   haproxy        reference proxy (nbthread 1; http, h2 and tcp modes)
#   nginx-light    loopback backend and reference proxy (worker_processes 1, upstream keepalive); pulls in nginx
#   wrk            closed-loop HTTP/1.1 max-throughput generator
#   nghttp2-client h2load, the HTTP/2 (h2c) generator
#   hey            fixed-rate generator (hey -q), a second opinion beside apps/bench's open-loop generator
# All names were checked with `apt-cache policy` on Debian 12 (bookworm); none needed a substitute.
# The packages' own nginx and haproxy services are kept from starting during the install (policy-rc.d): the
# benchmark starts its own instances on loopback ports, with configs it writes to a temporary directory.
set -euo pipefail

packages=(haproxy nginx-light wrk nghttp2-client hey)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup-bench: missing ${missing[*]}; run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup-bench: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # policy-rc.d keeps the packages' post-install scripts from starting system-wide nginx/haproxy on port 80.
  policy=/usr/sbin/policy-rc.d
  had_policy=0
  [[ -e $policy ]] && had_policy=1
  if ((had_policy == 0)); then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

for tool in haproxy nginx wrk h2load hey taskset; do
  command -v "$tool" >/dev/null || { echo "setup-bench: $tool is still missing after install" >&2; exit 1; }
done
echo "setup-bench: ok (${packages[*]})"
