#!/usr/bin/env bash
# Generates TypeScript from contracts/proto/weft/**/*.proto into contracts/src/gen with ts-proto; --check verifies the committed copy is current.
#
# Usage: bash contracts/scripts/generate.sh           regenerate contracts/src/gen
#        bash contracts/scripts/generate.sh --check   fail if contracts/src/gen differs from a fresh generation
#
# Needs `protoc` with the well-known types (google/protobuf/*.proto) on its include path, and the
# root devDependency ts-proto (node_modules/.bin/protoc-gen-ts_proto). It installs nothing itself.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
contracts_dir="$(dirname "$script_dir")"
repo_dir="$(dirname "$contracts_dir")"
proto_dir="$contracts_dir/proto"
gen_dir="$contracts_dir/src/gen"
plugin="$repo_dir/node_modules/.bin/protoc-gen-ts_proto"

# ts-proto options, and why each is set:
#   outputServices=grpc-js   service definitions, server interfaces and clients for @grpc/grpc-js
#   env=node                 Node-only output (no browser shims)
#   esModuleInterop=true     default imports that work under ESM + nodenext
#   importSuffix=.js         relative imports end in .js, as nodenext resolution requires
#   oneof=unions-value       oneofs become `{ $case, value }` unions the compiler can narrow
#   useOptionals=messages    message-typed fields are optional (`x?: T | undefined`), scalars always present
#   forceLong=bigint         64-bit integers are bigint, never lossy numbers or Long objects
#   useExactTypes=false      fromPartial/create take plain DeepPartial objects (no Exact<> gymnastics)
#   enumsAsLiterals=true     enums become `as const` objects plus a literal union type: the repo bans TS `enum`
#   annotateFilesWithVersion=false  no protoc/ts-proto version banner, so --check does not fail just because
#                            CI has a different protoc build than the machine that generated the files
ts_proto_opts="outputServices=grpc-js,env=node,esModuleInterop=true,importSuffix=.js,oneof=unions-value"
ts_proto_opts+=",useOptionals=messages,forceLong=bigint,useExactTypes=false,enumsAsLiterals=true"
ts_proto_opts+=",annotateFilesWithVersion=false"

install_hint="install it with: apt-get install -y protobuf-compiler libprotobuf-dev (Debian/Ubuntu), brew install protobuf (macOS), or a release from https://github.com/protocolbuffers/protobuf/releases"

fail() {
  echo "generate.sh: $*" >&2
  exit 1
}

check_mode=false
case "${1:-}" in
  "") ;;
  --check) check_mode=true ;;
  *) fail "unknown argument '$1'; use no argument to generate, or --check to verify contracts/src/gen" ;;
esac

command -v protoc >/dev/null 2>&1 || fail "protoc was not found on PATH; $install_hint"
[[ -x "$plugin" ]] || fail "$plugin is missing; run 'npm ci' at the repository root (ts-proto is a root devDependency)"

# The well-known types ship apart from the compiler on some systems (Debian: libprotobuf-dev).
# PROTOC_INCLUDE overrides the search.
wkt_include=""
protoc_prefix="$(dirname "$(dirname "$(command -v protoc)")")"
for candidate in "${PROTOC_INCLUDE:-}" /usr/include /usr/local/include "$protoc_prefix/include"; do
  if [[ -n "$candidate" && -f "$candidate/google/protobuf/duration.proto" ]]; then
    wkt_include="$candidate"
    break
  fi
done
[[ -n "$wkt_include" ]] || fail "google/protobuf/duration.proto was not found (looked in \$PROTOC_INCLUDE, /usr/include, /usr/local/include, $protoc_prefix/include); $install_hint, or set PROTOC_INCLUDE to the directory that holds google/protobuf/"

mapfile -t protos < <(cd "$proto_dir" && find weft -name '*.proto' | LC_ALL=C sort)
[[ ${#protos[@]} -gt 0 ]] || fail "no .proto files under $proto_dir/weft"

out_dir="$(mktemp -d)"
trap 'rm -rf "$out_dir"' EXIT

(
  cd "$proto_dir"
  protoc \
    --plugin="protoc-gen-ts_proto=$plugin" \
    --ts_proto_out="$out_dir" \
    --ts_proto_opt="$ts_proto_opts" \
    -I "$proto_dir" \
    -I "$wkt_include" \
    "${protos[@]}"
)

if $check_mode; then
  if ! diff -ru "$gen_dir" "$out_dir" >"$out_dir.diff" 2>&1; then
    cat "$out_dir.diff" >&2
    rm -f "$out_dir.diff"
    fail "contracts/src/gen is out of date with contracts/proto; run 'npm run generate -w @weft/contracts' (or 'bash contracts/scripts/generate.sh') and commit the result"
  fi
  rm -f "$out_dir.diff"
  echo "generate.sh: contracts/src/gen matches contracts/proto (protoc $(protoc --version | cut -d' ' -f2))"
else
  rm -rf "$gen_dir"
  mkdir -p "$(dirname "$gen_dir")"
  cp -R "$out_dir" "$gen_dir"
  echo "generate.sh: wrote $(find "$gen_dir" -name '*.ts' | wc -l) files to contracts/src/gen from ${#protos[@]} .proto files"
fi
