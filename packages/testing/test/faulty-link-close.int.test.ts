// FaultyLink.close() must return promptly in every state a fault test can leave the link in, and
// leave no socket, listener or timer behind: tear-downs await it without a bound of their own.
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultyLink } from '../src/index.js';
import {
  closeTimed,
  EchoServer,
  handlesLeftAbove,
  openHandles,
  rawClient,
} from './support/link-close-support.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// Generous: close() needs a loop turn or two; anything near this bound is a hang cut short.
const CLOSE_BOUND_MS = 2_000;

let echo: EchoServer | undefined;
const links: FaultyLink[] = [];
const sockets: Socket[] = [];
const redisClients: Redis[] = [];
afterEach(async () => {
  // Bounded here too, so a failing test reports instead of hanging the hook.
  await Promise.all(links.splice(0).map((link) => closeTimed(link)));
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const client of redisClients.splice(0)) client.disconnect();
  await echo?.close();
  echo = undefined;
});

async function clientThrough(link: FaultyLink): Promise<Socket> {
  const socket = await rawClient(link);
  sockets.push(socket);
  return socket;
}

/** Close `link` (bounded), then everything the test opened; nothing may stay open. */
async function expectPromptCloseAndNoHandles(link: FaultyLink, baseline: Record<string, number>) {
  await expectPromptClose(link);
  await expectNothingOpen(baseline);
}

async function expectPromptClose(link: FaultyLink, label = 'close() hung') {
  const took = await closeTimed(link, CLOSE_BOUND_MS);
  expect(took, label).not.toBe('hung');
  expect(link.connectionCount).toBe(0);
  links.splice(links.indexOf(link), 1);
}

/** Close what the test opened besides links; no socket, listener or timer may outlive it. */
async function expectNothingOpen(baseline: Record<string, number>) {
  for (const socket of sockets.splice(0)) socket.destroy();
  // A client the link already cut off is 'end'; disconnect() would still start ioredis's own 2 s
  // timer for a socket that has closed, which is no handle of the link's.
  for (const client of redisClients.splice(0)) if (client.status !== 'end') client.disconnect();
  await echo?.close();
  echo = undefined;
  expect(await handlesLeftAbove(baseline)).toEqual({});
}

/** Whether `condition` holds within `withinMs`. */
async function eventually(condition: () => boolean, withinMs = 1_000): Promise<boolean> {
  for (let waited = 0; !condition() && waited < withinMs; waited += 10) await sleep(10);
  return condition();
}

describe('FaultyLink.close() is bounded and leaves nothing open', () => {
  it('after a reset() right behind a FIN that resume() forwarded to the store', async () => {
    const baseline = openHandles();
    echo = await EchoServer.start();
    const link = await FaultyLink.start({ target: echo.target });
    links.push(link);
    const client = await clientThrough(link);
    client.write('ping');
    await new Promise((resolve) => client.once('data', resolve));
    link.pause();
    client.end(); // held by the paused link
    await sleep(50);
    // resume() writes the held FIN (socket.end()) and reset() comes in the same tick, while that
    // shutdown is still pending: libuv refuses the RST (EINVAL) and Node then never closes the socket.
    link.resume();
    link.reset();
    const resetClosed = await eventually(() => link.connectionCount === 0);
    await expectPromptCloseAndNoHandles(link, baseline);
    expect(resetClosed, 'the reset connection never closed').toBe(true);
  });

  it('after a reset() right behind a FIN that resume() forwarded to the client', async () => {
    const baseline = openHandles();
    echo = await EchoServer.start();
    const link = await FaultyLink.start({ target: echo.target });
    links.push(link);
    const client = await clientThrough(link);
    client.write('ping');
    await new Promise((resolve) => client.once('data', resolve));
    link.pause();
    echo.endAll(); // the store hangs up; its FIN waits in the paused link
    await sleep(50);
    link.resume();
    link.reset();
    const resetClosed = await eventually(() => link.connectionCount === 0);
    await expectPromptCloseAndNoHandles(link, baseline);
    expect(resetClosed, 'the reset connection never closed').toBe(true);
  });

  it('with delay, a pause, a stalled store, clients that stop reading, traffic and resets in flight', async () => {
    const baseline = openHandles();
    echo = await EchoServer.start();
    const link = await FaultyLink.start({
      target: echo.target,
      latency: { upMs: 80, downMs: 80, jitterMs: 20 },
    });
    links.push(link);
    const clients = await Promise.all(Array.from({ length: 6 }, () => clientThrough(link)));
    const big = Buffer.alloc(256 * 1024, 'x');
    // Enough bytes each way to fill kernel buffers and the link's queues past their high water.
    for (const client of clients) for (let index = 0; index < 40; index++) client.write(big);
    await sleep(150);
    clients[0]!.pause(); // a client that stops reading: the link's writes to it back up
    clients[1]!.pause();
    echo.stall(); // a store that stops reading: the link's writes to it back up
    await sleep(150);
    link.pause();
    clients[2]!.end(); // FINs held by the paused link, one forwarded late by a short resume
    echo.endAll();
    await sleep(50);
    link.resume();
    link.reset(); // RSTs in flight next to the resumed FINs
    link.pause();
    for (const client of clients.slice(3)) client.write(big);
    const late = await Promise.all([clientThrough(link), clientThrough(link)]);
    for (const client of late) client.write(big);
    await sleep(30);
    await expectPromptCloseAndNoHandles(link, baseline);
  });

  it('is idempotent, safe to call concurrently, refuses connections while closing, and outlives later calls', async () => {
    const baseline = openHandles();
    echo = await EchoServer.start();
    const link = await FaultyLink.start({ target: echo.target, latency: { upMs: 200, downMs: 200 } });
    links.push(link);
    const clients = await Promise.all(Array.from({ length: 4 }, () => clientThrough(link)));
    for (const client of clients) client.write('in flight');
    link.pause();
    const first = link.close();
    const connecting = clientThrough(link).then(
      (socket) => new Promise<boolean>((resolve) => socket.once('close', () => resolve(true))),
      () => true,
    );
    link.reset();
    const second = link.close();
    expect(second).toBe(first);
    await Promise.all([first, second, link.close()]);
    expect(await connecting).toBe(true); // refused, or accepted and dropped at once
    link.reset();
    link.resume();
    link.pause();
    await expectPromptCloseAndNoHandles(link, baseline);
  });

  it('after many FINs and resets landing in the same timer turn (randomized rounds)', async () => {
    const baseline = openHandles();
    echo = await EchoServer.start();
    for (let round = 0; round < 12; round++) {
      const delayMs = 5 + (round % 4) * 5;
      const link = await FaultyLink.start({
        target: echo.target,
        latency: { upMs: delayMs, downMs: delayMs },
      });
      links.push(link);
      const clients = await Promise.all(Array.from({ length: 5 }, () => clientThrough(link)));
      for (const client of clients) client.write('hello');
      await sleep(delayMs * 3);
      // FINs both ways whose forwarding timers fire together with a reset timer of the same delay.
      for (const client of clients.slice(0, 3)) client.end();
      echo.endAll();
      setTimeout(() => link.reset(), delayMs + (round % 3));
      if (round % 2 === 0) setImmediate(() => link.reset());
      await sleep(delayMs + (round % 3) * 2);
      await expectPromptClose(link, `close() hung in round ${round}`);
    }
    await expectNothingOpen(baseline);
  });

  it('in front of the shared Redis: ioredis clients with pipelines and a BLPOP in flight, paused, reset', async () => {
    const baseline = openHandles();
    const url = new URL(REDIS_URL);
    const link = await FaultyLink.start({
      target: { host: url.hostname, port: Number(url.port || 6379) },
      latency: { upMs: 50, downMs: 50, jitterMs: 10 },
    });
    links.push(link);
    const options = { commandTimeout: 10_000, maxRetriesPerRequest: 0, retryStrategy: () => null };
    const clients = Array.from({ length: 4 }, () => new Redis(link.url(REDIS_URL), options));
    redisClients.push(...clients);
    for (const client of clients) client.on('error', () => {});
    await Promise.all(clients.map((client) => client.ping()));
    const settled: Promise<unknown>[] = [];
    const key = `test:faulty-link-close:${process.pid}`;
    settled.push(clients[0]!.blpop(`${key}:never`, 30).catch(() => 'failed'));
    for (const client of clients.slice(1)) {
      const pipeline = client.pipeline();
      for (let index = 0; index < 200; index++) pipeline.get(key);
      settled.push(pipeline.exec().catch(() => 'failed'));
    }
    await sleep(60);
    link.pause();
    clients[1]!.disconnect(); // its FIN is held by the pause, past the link's latency
    await sleep(120);
    link.resume();
    link.reset();
    link.pause();
    settled.push(clients[2]!.ping().catch(() => 'failed'));
    await expectPromptClose(link);
    // Every command in flight ends (with an error) once the link is gone, and ioredis clears its timers.
    await Promise.all(settled);
    await expectNothingOpen(baseline);
  });
});
