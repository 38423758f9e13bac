/**
 * Waiting on a condition in real time (tests against real processes): polls `check` until it gives a
 * value, or fails naming what did not happen. Tests wait on conditions, never on fixed sleeps.
 */
export async function until<T>(what: string, check: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A promise's value once settled (polled like `until`), or a failure naming it after `ms`. */
export async function settled<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let done: { value: T } | undefined;
  void promise.then((value) => {
    done = { value };
  });
  return (await until(what, () => done, ms)).value;
}
