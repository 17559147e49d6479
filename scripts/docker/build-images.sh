#!/usr/bin/env bash
# Builds weft/proxy:<tag> and weft/control:<tag> from the staged bundles, through apps/proxy/Dockerfile and apps/control/Dockerfile.
#
# Usage: scripts/docker/build-images.sh [--base IMAGE] [--tag TAG] [--no-build] [--quiet]
#   --base IMAGE  the base image (default node:24-bookworm-slim, which needs a registry; with none reachable pass
#                 the local base: --base "$(scripts/docker/make-local-base.sh)")
#   --tag TAG     the tag of both images (default latest)
#   --no-build    bundle the apps' dist/ folders as they are (skip tsc -b)
# Each image is also tagged weft/<name>:c-<hash of bundle, Dockerfile and base>; when that tag exists the build is skipped.
# Prints the two image names as its last line.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
base=node:24-bookworm-slim
tag=latest
stage_args=()
quiet=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --base) base=${2:?--base needs an image}; shift 2 ;;
    --tag) tag=${2:?--tag needs a tag}; shift 2 ;;
    --no-build) stage_args+=(--no-build); shift ;;
    --quiet) quiet=true; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-images: unknown option $1; see --help" >&2; exit 2 ;;
  esac
done
say() { $quiet || echo "build-images: $*" >&2; }

docker info >/dev/null 2>&1 || { echo "build-images: the Docker engine does not answer; run: bash scripts/setup-docker.sh" >&2; exit 1; }
node=node
[[ -x "$repo/node_modules/.bin/node" ]] && node="$repo/node_modules/.bin/node"

stage="$repo/dist/docker-stage"
"$node" "$repo/scripts/docker/stage-image.mjs" --out "$stage" "${stage_args[@]}" >/dev/null
base_id=$(docker image inspect -f '{{.Id}}' "$base" 2>/dev/null || echo "$base")

built=()
for name in proxy control; do
  dockerfile="$repo/apps/$name/Dockerfile"
  key=$(cat "$stage/content-hash" "$dockerfile" <(echo "$base_id") | sha256sum | cut -c1-16)
  image="weft/$name:$tag"
  cached="weft/$name:c-$key"
  if docker image inspect "$cached" >/dev/null 2>&1; then
    say "$image: unchanged ($cached)"
    docker tag "$cached" "$image"
  else
    say "$image: building on $base"
    # The classic builder: engine 20.10 without buildx, and nothing here needs BuildKit.
    if ! DOCKER_BUILDKIT=0 docker build -q -f "$dockerfile" --build-arg "BASE=$base" -t "$cached" -t "$image" "$stage" >/dev/null 2>/tmp/weft-build-images.$$.err; then
      cat /tmp/weft-build-images.$$.err >&2
      rm -f /tmp/weft-build-images.$$.err
      echo "build-images: building $image failed (see above)" >&2
      exit 1
    fi
    rm -f /tmp/weft-build-images.$$.err
  fi
  built+=("$image")
  # Older cached builds of this image go (those still used by a container or tag stay: rmi refuses them).
  for old in $(docker images --format '{{.Repository}}:{{.Tag}}' "weft/$name" | grep ":c-" | grep -v "^$cached$" || true); do
    docker rmi "$old" >/dev/null 2>&1 || true
  done
done
echo "${built[*]}"
