#!/usr/bin/env bash
# Prepares Debian's arm64 Node.js to run under qemu-user, without installing it system-wide:
# the packages are unpacked into a sysroot folder and qemu-aarch64 runs node from there.
# Prints the path of a wrapper script that behaves like an arm64 `node`.
#
#   scripts/arm64-node.sh [sysroot-dir]     (default: .tmp/arm64-sysroot)
set -euo pipefail
cd "$(dirname "$0")/.."
sysroot=$(realpath -m "${1:-.tmp/arm64-sysroot}")
wrapper="$sysroot/node-arm64"
apt="$PWD/scripts/with-apt-lock.sh"

# Test files running side by side prepare the same sysroot at once: one at a time.
mkdir -p "$(dirname "$sysroot")"
exec 9>"$sysroot.lock"
flock 9

if [ -x "$wrapper" ] && "$wrapper" -e 'process.exit(process.arch === "arm64" ? 0 : 1)' >/dev/null 2>&1; then
  echo "$wrapper"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! command -v qemu-aarch64 >/dev/null 2>&1; then
  "$apt" apt-get update -qq >&2
  "$apt" apt-get install -y -qq qemu-user >&2
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  "$apt" dpkg --add-architecture arm64
  "$apt" apt-get update -qq >&2
fi
if ! apt-cache show nodejs:arm64 >/dev/null 2>&1; then
  "$apt" apt-get update -qq >&2
fi

# nodejs and its run-time dependencies (Debian builds node against shared system libraries and
# a few shared JS packages).
packages=(nodejs:arm64 libnode108:arm64 libc6:arm64 libgcc-s1:arm64 libstdc++6:arm64 libbrotli1:arm64
  libc-ares2:arm64 libicu72:arm64 libnghttp2-14:arm64 libssl3:arm64 libuv1:arm64 zlib1g:arm64
  node-acorn node-cjs-module-lexer node-undici)
debs="$sysroot.debs"
mkdir -p "$debs" "$sysroot"
(cd "$debs" && "$apt" apt-get download -qq "${packages[@]}" >&2)
for deb in "$debs"/*.deb; do
  dpkg -x "$deb" "$sysroot"
done

cat > "$wrapper" <<WRAP
#!/usr/bin/env bash
exec qemu-aarch64 -L "$sysroot" "$sysroot/usr/bin/node" "\$@"
WRAP
chmod +x "$wrapper"
"$wrapper" -e 'if (process.arch !== "arm64") process.exit(1)' >&2
echo "$wrapper"
