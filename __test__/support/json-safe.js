// Error payloads (ZodError, got errors, cycles, BigInts) reduced to plain JSON, so a child
// process can print them and a test can compare them.
export const jsonSafe = (value) => {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(value));
  } catch {
    return String(value);
  }
};
