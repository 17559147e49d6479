#!/usr/bin/env bash
# Installs the system packages Weft's build and tests use, from Debian; safe to run again.
#   protobuf-compiler, libprotobuf-dev: protoc and the well-known .proto files, to check contracts/src/gen.
#   prometheus: promtool, whose `check metrics` validates the proxy's metrics text (adapters/prometheus).
#   curl: a real HTTP client that the proxy tests send requests through.
set -euo pipefail

packages=(protobuf-compiler libprotobuf-dev prometheus curl)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup-system: missing ${missing[*]}; run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup-system: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup-system: ok (${packages[*]})"
