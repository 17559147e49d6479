#!/usr/bin/env bash
# Builds the local base image weft-local-base:<content hash> from this host's files (no registry needed) and prints its name.
#
# The image holds what Weft's images and test containers use, copied from the host with their shared libraries:
#   /usr/local/bin/node           Node 24 (node_modules/node's binary, or WEFT_BASE_NODE)
#   /bin/sh and a few coreutils   what the Dockerfiles' RUN lines and the tests' `docker exec` need
#   iptables-nft and ip           weft-init's rules (xtables-nft-multi, its symlinks and extensions, as on the host)
#   /etc/passwd, /etc/group       root and weft (uid/gid 2102, the proxy's user)
# The tag is a hash of the tree, so a second run with the same host files reuses the image.
# Usage: scripts/docker/make-local-base.sh [--quiet]   (prints the image name as its last line)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
quiet=false
[[ "${1:-}" == "--quiet" ]] && quiet=true
say() { $quiet || echo "make-local-base: $*" >&2; }

command -v docker >/dev/null || { echo "make-local-base: docker is not installed; run: bash scripts/setup-docker.sh" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "make-local-base: the Docker engine does not answer; run: bash scripts/setup-docker.sh" >&2; exit 1; }

node_bin=$(readlink -f "${WEFT_BASE_NODE:-$repo/node_modules/node/bin/node}")
[[ -x "$node_bin" ]] || { echo "make-local-base: no node binary at $node_bin (set WEFT_BASE_NODE)" >&2; exit 1; }
node_version=$("$node_bin" --version)
[[ "$node_version" == v24.* ]] || { echo "make-local-base: $node_bin is $node_version, not Node 24" >&2; exit 1; }
command -v xtables-nft-multi >/dev/null || { echo "make-local-base: xtables-nft-multi is missing; run: bash scripts/setup-docker.sh (installs iptables)" >&2; exit 1; }

tree=$(mktemp -d /tmp/weft-local-base.XXXXXX)
trap 'rm -rf "$tree"' EXIT
# Merged /usr as on Debian 12: /lib, /bin... are links into /usr, so every path a library or tool is known by works.
mkdir -p "$tree/usr/lib" "$tree/usr/lib64" "$tree/usr/bin" "$tree/usr/sbin"
for dir in lib lib64 bin sbin; do ln -s "usr/$dir" "$tree/$dir"; done

# Copies a file to the same path in the tree, following symlinks, with the shared libraries it needs.
copy_with_libs() {
  local source=$1 target=${2:-$1}
  mkdir -p "$tree$(dirname "$target")"
  cp -L "$source" "$tree$target"
  ldd "$source" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | while read -r lib; do
    [[ -e "$tree$lib" ]] && continue
    mkdir -p "$tree$(dirname "$lib")"
    cp -L "$lib" "$tree$lib"
  done
}

copy_with_libs "$node_bin" /usr/local/bin/node
copy_with_libs "$(readlink -f /bin/sh)" /bin/sh
for tool in cat ls mkdir rm cp mv chmod chown env sleep id echo true false sort head tail tr wc; do
  path=$(command -v "$tool" || true)
  [[ -n "$path" && -x "$path" && "$path" == /* ]] && copy_with_libs "$path" "/bin/$tool"
done

xtables=$(command -v xtables-nft-multi)
copy_with_libs "$xtables" /usr/sbin/xtables-nft-multi
for name in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore \
  iptables-nft iptables-nft-save iptables-nft-restore ip6tables-nft ip6tables-nft-save ip6tables-nft-restore; do
  ln -s xtables-nft-multi "$tree/usr/sbin/$name"
done
# Matches and targets (-m owner, -m comment, -j REDIRECT ...) are loaded from here at run time.
ext_dir=$(dirname "$(ldd "$xtables" | awk '/libxtables/ { print $3 }')")/xtables
if [[ -d "$ext_dir" ]]; then
  for ext in "$ext_dir"/*.so; do copy_with_libs "$ext"; done
fi
if ip_bin=$(command -v ip); then copy_with_libs "$ip_bin" /usr/sbin/ip; fi

mkdir -p "$tree/etc" "$tree/tmp" "$tree/root" "$tree/home/weft" "$tree/proc" "$tree/sys" "$tree/dev" "$tree/run"
chmod 1777 "$tree/tmp"
cat >"$tree/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
weft:x:2102:2102:weft proxy:/home/weft:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/sh
PASSWD
cat >"$tree/etc/group" <<'GROUP'
root:x:0:
weft:x:2102:
nogroup:x:65534:
GROUP
printf 'hosts: files dns\n' >"$tree/etc/nsswitch.conf"
chown -R 2102:2102 "$tree/home/weft" 2>/dev/null || true

hash=$(cd "$tree" && find . \( -type f -o -type l \) -print0 | LC_ALL=C sort -z \
  | xargs -0 -I{} sh -c 'if [ -L "$1" ]; then printf "%s -> %s\n" "$1" "$(readlink "$1")"; else printf "%s %s\n" "$1" "$(sha256sum <"$1" | cut -c1-64)"; fi' _ {} \
  | sha256sum | cut -c1-12)
image="weft-local-base:$hash"
if docker image inspect "$image" >/dev/null 2>&1; then
  say "$image exists (node $node_version)"
else
  say "importing $image (node $node_version, $(du -sh "$tree" | cut -f1))"
  tar -C "$tree" --numeric-owner -cf - . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/usr/local/bin/node"]' - "$image" >/dev/null
fi
echo "$image"
