import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MYSQL_URL, loadAppConfig } from '../src/config/app-config.js';
import { createAppContext } from '../src/server/app-context.js';
import { connectTestDataSource, dropTables, testConfig, uniqueTablePrefix } from './support/test-stores.js';

// The app runs against databases that hold other people's tables: it creates its own tables once,
// through migrations, and never alters or drops a table it did not create.
const logger = pino({ level: 'silent' });
let admin: DataSource;

beforeAll(async () => {
  admin = await connectTestDataSource(testConfig());
});

afterAll(async () => {
  await admin?.destroy();
});

async function columnsOf(table: string): Promise<string[]> {
  const rows: { name: string }[] = await admin.query(
    'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position',
    [table],
  );
  return rows.map((row) => row.name);
}

describe('configuration', () => {
  it('defaults to a database of its own, and schema sync can no longer be switched on', () => {
    const config = loadAppConfig({});
    expect(new URL(config.mysqlUrl).pathname).toBe('/express_stock');
    expect(DEFAULT_MYSQL_URL).toBe('mysql://root@127.0.0.1:3306/express_stock');
    expect(config.runMigrations).toBe(true);
    expect(() => loadAppConfig({ DB_SYNCHRONIZE: 'true' })).toThrow(/DB_SYNCHRONIZE.*migrations/);
  });
});

describe('a table of the same name that the app did not create', () => {
  it('is left exactly as it was, and the start-up fails naming it and TABLE_PREFIX', async () => {
    const prefix = uniqueTablePrefix();
    const table = `${prefix}stock`;
    await admin.query(
      `CREATE TABLE \`${table}\` (product_id varchar(64) PRIMARY KEY, quantity int NOT NULL, supplier varchar(100) NOT NULL)`,
    );
    try {
      await admin.query(`INSERT INTO \`${table}\` VALUES ('theirs', 3, 'ACME')`);
      await expect(createAppContext(testConfig({ tablePrefix: prefix }), logger)).rejects.toThrow(
        new RegExp(`${table}.*not created by express-stock.*TABLE_PREFIX`, 's'),
      );
      expect(await columnsOf(table)).toEqual(['product_id', 'quantity', 'supplier']);
      expect(await admin.query(`SELECT * FROM \`${table}\``)).toEqual([
        { product_id: 'theirs', quantity: 3, supplier: 'ACME' },
      ]);
      // Nothing else was created next to it either.
      expect(await columnsOf(`${prefix}order`)).toEqual([]);
    } finally {
      await admin.query(`DROP TABLE IF EXISTS \`${table}\`, \`${prefix}migrations\``);
    }
  });
});

describe('its own tables', () => {
  it('are created once by migrations, match the entities, and keep their data across restarts', async () => {
    const config = testConfig();
    const first = await createAppContext(config, logger);
    try {
      await first.stockService.set('kept', 4);
      // The migration and the entities describe the same schema: synchronize would change nothing.
      const pending = await first.dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);
    } finally {
      await first.close();
    }
    // Two servers starting at once: the migration runs under a lock, once.
    const [second, third] = await Promise.all([
      createAppContext(config, logger),
      createAppContext(config, logger),
    ]);
    try {
      expect((await second.stockService.find('kept'))?.quantity).toBe(4);
      const migrations: unknown[] = await second.dataSource.query(
        `SELECT name FROM \`${config.tablePrefix}migrations\``,
      );
      expect(migrations).toHaveLength(1);
    } finally {
      await dropTables(second.dataSource, config.tablePrefix);
      await Promise.all([second.close(), third.close()]);
    }
  });

  it('go into a database of their own, created when missing', async () => {
    const database = `express_stock_t${randomBytes(4).toString('hex')}`;
    const url = new URL(testConfig().mysqlUrl);
    url.pathname = `/${database}`;
    const context = await createAppContext(testConfig({ mysqlUrl: url.toString() }), logger);
    try {
      await context.stockService.set('p-1', 1);
      expect((await context.stockService.find('p-1'))?.quantity).toBe(1);
    } finally {
      await context.close();
      await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
    }
  });
});
