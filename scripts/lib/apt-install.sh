# shellcheck shell=bash
# Sourced by the setup scripts: installs the Debian packages that are missing, or says how to as a non-root user.

# apt_install_missing [--hold-services] NAME PACKAGE...
#   NAME prefixes the messages (the calling script's name). With --hold-services, a policy-rc.d that exists only
#   during the install keeps the packages' post-install scripts from starting their system-wide services.
#   Exits 1 when packages are missing and the caller is not root.
apt_install_missing() {
  local hold_services=0
  if [[ $1 == --hold-services ]]; then
    hold_services=1
    shift
  fi
  local name=$1
  shift
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]} > 0)) || return 0

  if [[ $(id -u) -ne 0 ]]; then
    echo "$name: missing ${missing[*]}; run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "$name: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ((hold_services == 1)) && [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
