import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/create-app.js';
import type { AppContext } from '../src/server/app-context.js';
import { createTestContext, dropTables } from './support/test-stores.js';

// A body the app cannot read is the client's mistake: a 4xx naming what is wrong, never a silent
// default and never a 500 logged as a server fault.
let context: AppContext;
let app: ReturnType<typeof createApp>;
const logged: { level: number; msg: string }[] = [];

beforeAll(async () => {
  context = await createTestContext();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logged.push(JSON.parse(line));
      done();
    },
  });
  app = createApp({ ...context, logger: pino({ level: 'debug' }, sink) });
});

afterAll(async () => {
  if (context) {
    await dropTables(context.dataSource, context.config.tablePrefix);
    await context.close();
  }
});

async function seed(productId: string, quantity: number): Promise<void> {
  await request(app).put(`/stocks/${productId}`).send({ quantity }).expect(200);
}

async function expectStock(productId: string, quantity: number): Promise<void> {
  await request(app).get(`/stocks/${productId}`).expect(200, { productId, quantity });
}

/** superagent would JSON-encode a Buffer sent as application/json; send the bytes instead. */
const asIs = (body: unknown) => body as string;

function serverFaultsLogged(): number {
  return logged.filter((line) => line.level >= 40).length;
}

describe('a body that is not JSON is a 415, not a silent default', () => {
  it.each([
    ['a form body', 'application/x-www-form-urlencoded', 'quantity=5'],
    ['JSON sent as text/plain', 'text/plain', '{"quantity":5}'],
    ['JSON with a vendor type', 'application/vnd.api+json', '{"quantity":5}'],
  ])('decrease with %s: 415 and the stock unchanged', async (_case, type, body) => {
    await seed('v-415', 10);
    const response = await request(app)
      .post('/stocks/v-415/decrease')
      .set('content-type', type)
      .send(body)
      .expect(415);
    expect(response.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', field: 'content-type' });
    expect(response.body.error.message).toMatch(/application\/json/);
    await expectStock('v-415', 10);
  });

  it('PUT and POST /orders with a form body: 415', async () => {
    await request(app)
      .put('/stocks/v-415')
      .set('content-type', 'application/x-www-form-urlencoded')
      .send('quantity=5')
      .expect(415);
    await request(app)
      .post('/orders')
      .set('content-type', 'text/plain')
      .send('{"userId":"u","productId":"v-415"}')
      .expect(415);
    await expectStock('v-415', 10);
  });

  it('a decrease without any body still means one item (curl -X POST)', async () => {
    await seed('v-empty', 3);
    await request(app).post('/stocks/v-empty/decrease').expect(200);
    await request(app).post('/stocks/v-empty/decrease').set('content-type', 'application/json').expect(200);
    await expectStock('v-empty', 1);
  });
});

describe('every invalid field is a 400 naming it', () => {
  it.each([
    ['quantity: null', { quantity: null }, 'quantity'],
    ['quantity: "5"', { quantity: '5' }, 'quantity'],
    ['a misspelled field', { qty: 5 }, 'qty'],
  ])('decrease with %s', async (_case, body, field) => {
    await seed('v-400', 10);
    const response = await request(app).post('/stocks/v-400/decrease').send(body).expect(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_INPUT', field });
    await expectStock('v-400', 10);
  });

  it.each([
    ['quantity: null', { userId: 'u-1', productId: 'v-400', quantity: null }, 'quantity'],
    ['no userId', { productId: 'v-400', quantity: 1 }, 'userId'],
    ['a numeric productId', { userId: 'u-1', productId: 7, quantity: 1 }, 'productId'],
    ['an unknown field', { userId: 'u-1', productId: 'v-400', quantity: 1, coupon: 'X' }, 'coupon'],
  ])('POST /orders with %s', async (_case, body, field) => {
    await seed('v-400', 10);
    const response = await request(app).post('/orders').send(body).expect(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_INPUT', field });
    await expectStock('v-400', 10);
  });

  it('PUT without quantity, and a body that is an array', async () => {
    const missing = await request(app).put('/stocks/v-400').send({}).expect(400);
    expect(missing.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'quantity' });
    const array = await request(app).post('/orders').send([1, 2]).expect(400);
    expect(array.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'body' });
  });
});

describe('body-parser client errors keep their 4xx and are not logged as server faults', () => {
  it('413 for a body over the limit, 415 for an unsupported charset or encoding, 400 for broken gzip and JSON', async () => {
    const faultsBefore = serverFaultsLogged();
    const tooLarge = await request(app)
      .post('/stocks/v-parser/decrease')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ quantity: 1, padding: 'x'.repeat(20_000) }))
      .expect(413);
    expect(tooLarge.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'body' });

    const charset = await request(app)
      .post('/stocks/v-parser/decrease')
      .set('content-type', 'application/json; charset=latin1')
      .send('{"quantity":1}')
      .expect(415);
    expect(charset.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', field: 'content-type' });

    const encoding = await request(app)
      .post('/stocks/v-parser/decrease')
      .set('content-type', 'application/json')
      .set('content-encoding', 'compress')
      .send('{"quantity":1}')
      .expect(415);
    expect(encoding.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', field: 'content-encoding' });

    const brokenGzip = await request(app)
      .post('/stocks/v-parser/decrease')
      .set('content-type', 'application/json')
      .set('content-encoding', 'gzip')
      .serialize(asIs)
      .send(gzipSync('{"quantity":1}').subarray(0, 12))
      .expect(400);
    expect(brokenGzip.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'body' });

    const malformed = await request(app)
      .post('/stocks/v-parser/decrease')
      .set('content-type', 'application/json')
      .send('{"quantity":')
      .expect(400);
    expect(malformed.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'body' });

    expect(serverFaultsLogged()).toBe(faultsBefore);
  });

  it('a gzip body that is valid JSON is read', async () => {
    await seed('v-gzip', 5);
    await request(app)
      .post('/stocks/v-gzip/decrease')
      .set('content-type', 'application/json')
      .set('content-encoding', 'gzip')
      .serialize(asIs)
      .send(gzipSync('{"quantity":2}'))
      .expect(200);
    await expectStock('v-gzip', 3);
  });
});
