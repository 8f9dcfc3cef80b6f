# shellcheck shell=bash
# Sourced by .ci/run and the test command's setup scripts (node-runtime.sh, with-apt-lock.sh):
# `retry <who> <command...>` runs a command (a function too) up to three times, 5 then 10 s
# apart, saying each failed try on stderr as `<who>: ...`. A registry or mirror that drops one
# connection should not fail a run.
retry() {
  local who=$1 attempt
  shift
  for attempt in 1 2 3; do
    "$@" && return 0
    [ "$attempt" = 3 ] || { echo "$who: try $attempt of \`$*\` failed; trying again" >&2; sleep $((attempt * 5)); }
  done
  return 1
}
