import { randomUUID } from 'node:crypto';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique key namespace for one test file, so files can run in parallel. */
export function testPrefix(label: string): string {
  return `test:${label}:${randomUUID().slice(0, 8)}:`;
}
