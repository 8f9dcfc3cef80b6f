#!/usr/bin/env bash
# Builds the release `.node` binary for each napi target given (default: the four Linux
# targets this machine can build) and puts it both in the repo root (what the self-contained
# main tarball ships) and in npm/<platform>/ (the per-target package).
#
#   scripts/build-release.sh [rust-target ...]
#
# Linux targets build with cargo-zigbuild: glibc ones against glibc 2.17, musl ones linked
# dynamically to musl (see .cargo/config.toml). macOS and Windows build natively on their own
# runners (the release workflow calls this same script there).
set -euo pipefail
cd "$(dirname "$0")/.."

name=connector-twilio-sms-native
lib=connector_twilio_sms_native
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(x86_64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-gnu aarch64-unknown-linux-musl)
fi

platform_of() {
  case "$1" in
    x86_64-unknown-linux-gnu) echo linux-x64-gnu ;;
    x86_64-unknown-linux-musl) echo linux-x64-musl ;;
    aarch64-unknown-linux-gnu) echo linux-arm64-gnu ;;
    aarch64-unknown-linux-musl) echo linux-arm64-musl ;;
    x86_64-apple-darwin) echo darwin-x64 ;;
    aarch64-apple-darwin) echo darwin-arm64 ;;
    x86_64-pc-windows-msvc) echo win32-x64-msvc ;;
    *) echo "unsupported target: $1" >&2; return 1 ;;
  esac
}

ensure_zigbuild() {
  if ! command -v cargo-zigbuild >/dev/null 2>&1; then
    python3 -m pip install --quiet ziglang cargo-zigbuild
    hash -r
  fi
}

for target in "${targets[@]}"; do
  platform=$(platform_of "$target")
  if command -v rustup >/dev/null 2>&1; then
    rustup target add "$target" >/dev/null 2>&1 || true
  fi
  case "$target" in
    *-linux-gnu)
      ensure_zigbuild
      cargo zigbuild --release --locked --target "$target.2.17"
      artifact="target/$target/release/lib$lib.so"
      ;;
    *-linux-musl)
      ensure_zigbuild
      cargo zigbuild --release --locked --target "$target"
      artifact="target/$target/release/lib$lib.so"
      ;;
    *-apple-darwin)
      cargo build --release --locked --target "$target"
      artifact="target/$target/release/lib$lib.dylib"
      ;;
    *-windows-msvc)
      cargo build --release --locked --target "$target"
      artifact="target/$target/release/$lib.dll"
      ;;
  esac
  cp "$artifact" "$name.$platform.node"
  cp "$artifact" "npm/$platform/$name.$platform.node"
  echo "built $name.$platform.node ($(wc -c < "$artifact") bytes)"
done
