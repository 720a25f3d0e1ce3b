import {
  InvalidLockKeyError,
  LockAbortedError,
  LockBackendError,
  LockCapacityError,
  LockLostError,
  LockNotAcquiredError,
  LockTimeoutError,
  lockErrorHttpResponse,
} from '@dlock/core';
import { type ArgumentsHost, HttpStatus, Logger, NotFoundException } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LockErrorFilter } from './lock-error-filter.js';

interface Reply {
  status?: number;
  body?: unknown;
  headers: Record<string, string>;
  ended: boolean;
}

function fakeHttp(options: { type?: string; headersSent?: boolean } = {}) {
  const reply: Reply = { headers: {}, ended: false };
  const adapter = {
    reply: (_response: unknown, body: unknown, status: number) => Object.assign(reply, { body, status }),
    setHeader: (_response: unknown, name: string, value: string) => {
      reply.headers[name] = value;
    },
    isHeadersSent: () => options.headersSent ?? false,
    end: () => {
      reply.ended = true;
    },
    getRequestMethod: () => 'POST',
    getRequestUrl: () => '/stock/42',
  } as unknown as AbstractHttpAdapter;
  const host = {
    getType: () => options.type ?? 'http',
    getArgByIndex: (index: number) => (index === 1 ? {} : undefined),
    switchToHttp: () => ({ getRequest: () => ({}), getResponse: () => ({}) }),
  } as unknown as ArgumentsHost;
  return { filter: new LockErrorFilter(adapter), host, reply };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('LockErrorFilter', () => {
  const errors = [
    new LockNotAcquiredError('stock:42', 'spin'),
    new LockTimeoutError('stock:42', 'pubsub', 5_000),
    new LockCapacityError('too many', { key: 'stock:42', backend: 'mysql', limit: 'maxConnections' }),
    new LockAbortedError('stock:42', 'pubsub', new Error('client gone')),
    new LockBackendError('connection refused', { key: 'stock:42', backend: 'spin', isRetryable: true }),
    new LockBackendError('closed', { key: 'stock:42', backend: 'spin', isRetryable: false }),
    new LockLostError('stock:42', 'spin'),
    new InvalidLockKeyError('empty key'),
  ];

  it.each(errors.map((error) => [`${error.name} ${error.message.slice(0, 20)}`, error]))(
    'answers %s exactly as lockErrorHttpResponse says, logging only server faults',
    (_label, error) => {
      const logged = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => {});
      const { filter, host, reply } = fakeHttp();
      filter.catch(error, host);
      const expected = lockErrorHttpResponse(error)!;
      expect(reply.status).toBe(expected.status);
      expect(reply.body).toEqual({
        statusCode: expected.status,
        code: expected.code,
        message: expected.message,
      });
      expect(reply.headers).toEqual(
        expected.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(expected.retryAfterSeconds) },
      );
      expect(logged).toHaveBeenCalledTimes(expected.isServerFault ? 1 : 0);
      if (expected.isServerFault) {
        expect(String(logged.mock.calls[0]?.[0])).toContain(`POST /stock/42 answered ${expected.status}`);
      }
    },
  );

  it('hands other exceptions to Nest: an HttpException keeps its own answer', () => {
    const { filter, host, reply } = fakeHttp();
    filter.catch(new NotFoundException('No such product'), host);
    expect(reply.status).toBe(HttpStatus.NOT_FOUND);
    expect(reply.body).toMatchObject({ message: 'No such product' });
  });

  it('rethrows outside HTTP, and only ends a response whose headers were already sent', () => {
    const error = new LockNotAcquiredError('stock:42', 'spin');
    expect(() => fakeHttp({ type: 'rpc' }).filter.catch(error, fakeHttp({ type: 'rpc' }).host)).toThrow(
      error,
    );
    const sent = fakeHttp({ headersSent: true });
    sent.filter.catch(error, sent.host);
    expect(sent.reply).toEqual({ headers: {}, ended: true });
  });
});
