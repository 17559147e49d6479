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
# shellcheck source=lib/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

packages=(haproxy nginx-light wrk nghttp2-client hey)

# --hold-services keeps the packages' post-install scripts from starting system-wide nginx/haproxy on port 80.
apt_install_missing --hold-services setup-bench "${packages[@]}"

for tool in haproxy nginx wrk h2load hey taskset; do
  command -v "$tool" >/dev/null || { echo "setup-bench: $tool is still missing after install" >&2; exit 1; }
done
echo "setup-bench: ok (${packages[*]})"
