/**
 * Wait for `promise` (fulfilled or rejected) but never longer than `ms`: true if it settled in
 * time. The timer is cleared either way, so the wait leaves nothing behind.
 *
 * @example
 * if (!(await settlesWithin(closed, 1_000))) console.warn('socket never closed');
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
