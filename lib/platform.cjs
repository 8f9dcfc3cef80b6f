// This platform's name as napi names binaries (`linux-x64-musl`, `darwin-arm64`, ...), decided
// once for both the loader (../index.js, which picks the binary by it) and lib/native.js (whose
// error names it), so the two can never disagree.
//
// On Linux the libc that matters is the one Node itself runs on, and Node's diagnostic report
// states it: a glibc Node reports the glibc it runs with (`header.glibcVersionRuntime`), a musl
// Node reports none. napi's generated loader asks /usr/bin/ldd first, which describes the
// host's C library, not Node's: a musl Node on a host with glibc's ldd (or the reverse) would be
// handed the other libc's binary. CommonJS, because the loader require()s it.
'use strict';

let musl;

/** Whether this Node runs on musl (false off Linux). */
const isMusl = () => {
  if (musl === undefined) {
    musl = false;
    if (process.platform === 'linux') {
      const { report } = process;
      // The report would otherwise also look up the host's network interfaces: slow, and
      // nothing of ours. The caller's setting is put back.
      const excludeNetwork = report.excludeNetwork;
      report.excludeNetwork = true;
      try {
        musl = !report.getReport().header.glibcVersionRuntime;
      } finally {
        report.excludeNetwork = excludeNetwork;
      }
    }
  }
  return musl;
};

/** This platform as napi names it: `<platform>-<arch>`, with `-gnu` or `-musl` on Linux. */
const platformName = () => {
  const { platform, arch } = process;
  return platform === 'linux' ? `${platform}-${arch}-${isMusl() ? 'musl' : 'gnu'}` : `${platform}-${arch}`;
};

module.exports = { isMusl, platformName };
