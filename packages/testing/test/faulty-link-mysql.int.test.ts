import { performance } from 'node:perf_hooks';
import { createConnection } from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { FaultyLink } from '../src/index.js';

const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const target = (() => {
  const url = new URL(MYSQL_URL);
  return { host: url.hostname, port: Number(url.port || 3306) };
})();

let link: FaultyLink | undefined;
afterAll(() => link?.close());

describe('FaultyLink in front of the shared MariaDB', () => {
  it('proxies the MySQL handshake and queries, with latency', async () => {
    link = await FaultyLink.start({ target, latency: { upMs: 10, downMs: 10 } });
    const connection = await createConnection({ uri: link.url(MYSQL_URL), connectTimeout: 10_000 });
    try {
      const startedAt = performance.now();
      const [rows] = await connection.query('SELECT 1 + 1 AS two');
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(15);
      expect(rows).toEqual([{ two: 2 }]);
      expect(link.connectionCount).toBe(1);
    } finally {
      await connection.end();
    }
  });
});
