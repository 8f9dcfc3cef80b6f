// Waiting for something observable (a server received a request) instead of sleeping and
// hoping: polls `predicate` every few ms and fails naming `what` if it never holds.
export async function until(predicate, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// The connector's counting windows are aligned to the Unix epoch (a count resets when
// `now / window` changes, daily budgets at 00:00 UTC), so a test whose sends straddle a
// window's end sees its count reset midway. Called before such sends: when the next end of a
// `windowSeconds` window is less than `marginMs` away, waits until just past it.
export async function clearOfWindowEnd(windowSeconds, marginMs) {
  const windowMs = windowSeconds * 1000;
  const untilEnd = windowMs - (Date.now() % windowMs);
  if (untilEnd < marginMs) await new Promise((resolve) => setTimeout(resolve, untilEnd + 100));
}
