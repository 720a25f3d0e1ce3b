import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection } from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { PrivateMariaDb } from '../../src/servers/index.js';

let database: PrivateMariaDb | undefined;
afterAll(() => database?.stop());

describe('PrivateMariaDb', () => {
  it('starts a throwaway mariadbd with database test, pauses, resumes, survives a crash, stops', async () => {
    database = await PrivateMariaDb.start();
    expect(database.port).not.toBe(3306);
    expect(database.url).toBe(`mysql://root@127.0.0.1:${database.port}/test`);
    const connection = await createConnection(database.url);
    connection.on('error', () => {});
    const [[{ lock }]] = (await connection.query("SELECT GET_LOCK('dlock-private', 0) AS `lock`")) as [
      [{ lock: number }],
      unknown,
    ];
    expect(lock).toBe(1);
    await connection.query('CREATE TABLE kept (id INT PRIMARY KEY)');
    await connection.query('INSERT INTO kept VALUES (1)');

    database.pause();
    let answered = false;
    const reply = connection.query('SELECT 1').then(() => {
      answered = true;
    });
    await sleep(300);
    expect(answered).toBe(false);
    database.resume();
    await reply;

    await database.kill();
    expect(database.pid).toBeUndefined();
    await database.restart();
    const after = await createConnection(database.url);
    const [rows] = await after.query('SELECT id FROM kept');
    expect(rows).toEqual([{ id: 1 }]);
    await after.end();
    connection.destroy();

    const pid = database.pid!;
    await database.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  }, 120_000);
});
