#!/usr/bin/env bash
# Installs the system packages Weft's build and tests use, from Debian; safe to run again.
#   protobuf-compiler, libprotobuf-dev: protoc and the well-known .proto files, to check contracts/src/gen.
#   prometheus: promtool, whose `check metrics` validates the proxy's metrics text (adapters/prometheus).
#   curl: a real HTTP client that the proxy tests send requests through.
set -euo pipefail
# shellcheck source=lib/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

packages=(protobuf-compiler libprotobuf-dev prometheus curl)

apt_install_missing setup-system "${packages[@]}"
echo "setup-system: ok (${packages[*]})"
