#!/usr/bin/env bash
# Runs an apt-get (or dpkg) command of the test command's own installs (qemu-user, Postgres,
# Redis, Debian's arm64 Node) under one lock for this machine, tried three times:
#
#   scripts/with-apt-lock.sh apt-get install -y -qq qemu-user
#
# Test files run side by side and may install at once; apt-get fails at once when another holds
# its lock, and a dropped connection to the mirror should not fail a run.
set -euo pipefail
lock="${TMPDIR:-/tmp}/connector-twilio-sms-native-apt.lock"
command -v flock >/dev/null || { echo "with-apt-lock: flock is missing (util-linux)" >&2; exit 1; }
# shellcheck source=scripts/retry.sh
. "$(dirname "$0")/retry.sh"
# -w: an install that holds the lock this long has hung; fail rather than wait for ever.
retry with-apt-lock flock -w 900 "$lock" "$@"
