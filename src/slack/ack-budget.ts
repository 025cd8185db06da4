/** How long a submission may wait for slow work before Slack is answered anyway (Slack allows 3 s). */
export const ACK_BUDGET_MS = 2000;

/** Whether `promise` settles within `ms`, and with what (a rejection is the caller's to handle). */
export async function settlesWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ settled: true; value: T } | { settled: false }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ settled: false }>((resolve) => {
    timer = setTimeout(() => resolve({ settled: false }), ms);
  });
  try {
    return await Promise.race([promise.then((value) => ({ settled: true as const, value })), late]);
  } finally {
    clearTimeout(timer);
  }
}
