// Asking a dependency (Postgres, Redis) whether it answers, without waiting forever: ioredis queues
// commands while Redis is away and Prisma retries connections, so an unbounded await would hang.

/** 'ok', or why the dependency did not answer within the timeout. */
export async function probe(check: () => Promise<unknown>, timeoutMs = 2000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (err) {
    // Prisma's messages span lines (invocation, code frame); the last line says what failed.
    const lines = ((err as Error).message || String(err)).split('\n').map((l) => l.trim()).filter(Boolean);
    return (lines.at(-1) ?? 'failed').slice(0, 300);
  } finally {
    clearTimeout(timer);
  }
}
