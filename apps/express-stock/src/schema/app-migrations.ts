import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The tables the app owns, without the prefix. */
const APP_TABLES = ['stock', 'order', 'race_stock'] as const;

/** A table the app would create already exists and is not the app's: nothing was changed. */
class ForeignTableError extends Error {
  override readonly name = 'ForeignTableError';
  readonly table: string;
  constructor(table: string, database: string) {
    super(
      `Table "${table}" already exists in database "${database}" and was not created by express-stock ` +
        `(its migrations never recorded it), so it was left untouched and the app did not start. ` +
        'Set TABLE_PREFIX to a prefix of its own, or MYSQL_URL to a database of its own ' +
        '(the default, "express_stock", is created when missing).',
    );
    this.table = table;
  }
}

/**
 * The app's migrations for `prefix`, in order. Each class is made per prefix because the table
 * names are part of the SQL (tests and several apps share one database with different prefixes).
 *
 * The first one only CREATEs, and only after checking that none of its tables exists: a table of
 * the same name that it did not record is someone else's, and it refuses rather than touch it.
 * Later schema changes are new migrations, never an edit of this one.
 *
 * @example
 * new DataSource({ ..., migrations: createAppMigrations('demo_'), migrationsTableName: 'demo_migrations' });
 */
export function createAppMigrations(prefix: string): (new () => MigrationInterface)[] {
  const table = (name: (typeof APP_TABLES)[number]) => `\`${prefix}${name}\``;

  class CreateStockTables1764400000000 implements MigrationInterface {
    readonly name = 'CreateStockTables1764400000000';

    async up(queryRunner: QueryRunner): Promise<void> {
      for (const name of APP_TABLES) {
        if (await queryRunner.hasTable(`${prefix}${name}`)) {
          throw new ForeignTableError(`${prefix}${name}`, queryRunner.connection.driver.database ?? '?');
        }
      }
      await queryRunner.query(
        `CREATE TABLE ${table('stock')} (
          \`product_id\` varchar(64) NOT NULL,
          \`quantity\` int NOT NULL,
          PRIMARY KEY (\`product_id\`)
        ) ENGINE=InnoDB`,
      );
      await queryRunner.query(
        `CREATE TABLE ${table('order')} (
          \`id\` int NOT NULL AUTO_INCREMENT,
          \`user_id\` varchar(64) NOT NULL,
          \`product_id\` varchar(64) NOT NULL,
          \`quantity\` int NOT NULL,
          \`created_at\` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
          PRIMARY KEY (\`id\`)
        ) ENGINE=InnoDB`,
      );
      await queryRunner.query(
        `CREATE TABLE ${table('race_stock')} (
          \`strategy\` varchar(16) NOT NULL,
          \`product_id\` varchar(64) NOT NULL,
          \`quantity\` int NOT NULL,
          PRIMARY KEY (\`strategy\`, \`product_id\`)
        ) ENGINE=InnoDB`,
      );
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP TABLE ${table('race_stock')}, ${table('order')}, ${table('stock')}`);
    }
  }

  return [CreateStockTables1764400000000];
}
