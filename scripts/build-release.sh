#!/usr/bin/env bash
# Builds the release `.node` binary for each napi target given (default: the four Linux
# targets this machine can build) and puts it both in the repo root (what the self-contained
# main tarball ships) and in npm/<platform>/ (the per-target package).
#
#   scripts/build-release.sh [rust-target ...]
#
# Targets are those of package.json `napi.targets` (scripts/targets.mjs).
#
# Linux targets build with cargo-zigbuild: glibc ones against glibc 2.17, musl ones linked
# dynamically to musl (see .cargo/config.toml). macOS and Windows build natively on their own
# runners (the release workflow calls this same script there); Windows links the C runtime
# statically (.cargo/config.toml), so the binary needs no VCRUNTIME140.dll.
set -euo pipefail
cd "$(dirname "$0")/.."

name=connector-twilio-sms-native
lib=connector_twilio_sms_native
# Pinned: a new zig or cargo-zigbuild can change what the binaries link against.
ZIGLANG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.1
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(node scripts/targets.mjs linux)
  [ ${#targets[@]} -gt 0 ] || { echo "no Linux targets in package.json napi.targets" >&2; exit 1; }
fi

ensure_zigbuild() {
  if [ "$(cargo-zigbuild --version 2>/dev/null)" != "cargo-zigbuild $CARGO_ZIGBUILD_VERSION" ] ||
    [ "$(python3 -m ziglang version 2>/dev/null)" != "$ZIGLANG_VERSION" ]; then
    python3 -m pip install --quiet "ziglang==$ZIGLANG_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
    hash -r
  fi
}

for target in "${targets[@]}"; do
  platform=$(node scripts/targets.mjs platform "$target")
  if command -v rustup >/dev/null 2>&1; then
    rustup target add "$target" >/dev/null 2>&1 || true
  fi
  case "$target" in
    *-linux-gnu)
      ensure_zigbuild
      cargo zigbuild --release --locked --features node --target "$target.2.17"
      artifact="target/$target/release/lib$lib.so"
      ;;
    *-linux-musl)
      ensure_zigbuild
      cargo zigbuild --release --locked --features node --target "$target"
      artifact="target/$target/release/lib$lib.so"
      ;;
    *-apple-darwin)
      # The oldest macOS each binary runs on (Rust's own minimums); check-binaries.mjs reads it back.
      case "$target" in
        x86_64-*) export MACOSX_DEPLOYMENT_TARGET=10.13 ;;
        *) export MACOSX_DEPLOYMENT_TARGET=11.0 ;;
      esac
      cargo build --release --locked --features node --target "$target"
      artifact="target/$target/release/lib$lib.dylib"
      ;;
    *-windows-msvc)
      cargo build --release --locked --features node --target "$target"
      artifact="target/$target/release/$lib.dll"
      ;;
  esac
  cp "$artifact" "$name.$platform.node"
  cp "$artifact" "npm/$platform/$name.$platform.node"
  echo "built $name.$platform.node ($(wc -c < "$artifact") bytes)"
done
