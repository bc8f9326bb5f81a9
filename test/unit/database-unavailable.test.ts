import { GraphQLError } from 'graphql';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/db/unavailable.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import { closedPort } from '../support/ports.js';

/** Prisma's error as a query on a connection PostgreSQL has just terminated throws it (seen on Prisma 7.10 + adapter-pg). */
function prismaError(code: string, cause: object): Prisma.PrismaClientKnownRequestError {
  return new Prisma.PrismaClientKnownRequestError('Invalid `prisma.message.create()` invocation', {
    code,
    clientVersion: '7.10.0',
    meta: { modelName: 'Message', driverAdapterError: { name: 'DriverAdapterError', cause } },
  });
}

function sqlState(code: string, message: string): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, 'error');
  error.code = code;
  error.severity = 'FATAL';
  return error;
}

describe('isDatabaseUnavailable', () => {
  it('recognises a connection PostgreSQL terminated (57P01) inside Prisma’s error', () => {
    const cause = { kind: 'postgres', code: '57P01', severity: 'FATAL', message: 'terminating connection due to administrator command', originalCode: '57P01' };
    expect(isDatabaseUnavailable(prismaError('P2039', cause))).toBe(true);
    // Wrapped once more, as graphql-js does for a resolver's error.
    expect(isDatabaseUnavailable(new GraphQLError('x', { originalError: prismaError('P2039', cause) }))).toBe(true);
  });

  it('recognises the adapter’s connection kinds and a server that is starting or shutting down', () => {
    for (const kind of ['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']) {
      expect(isDatabaseUnavailable(prismaError('P2039', { kind })), kind).toBe(true);
    }
    for (const code of ['57P01', '57P02', '57P03', '08006', '08001', '53300']) {
      expect(isDatabaseUnavailable(sqlState(code, 'the database system is starting up')), code).toBe(true);
    }
  });

  it('recognises a refused connection as pg reports it', async () => {
    const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/test` });
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { code?: string }).code).toBe('ECONNREFUSED');
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('recognises pg’s code-less "Connection terminated" errors and Prisma’s connection codes', () => {
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isDatabaseUnavailable(new Prisma.PrismaClientKnownRequestError('cannot reach', { code: 'P1001', clientVersion: '7.10.0' }))).toBe(true);
  });

  it('leaves every other failure to the ordinary masking', () => {
    expect(isDatabaseUnavailable(prismaError('P2002', { kind: 'UniqueConstraintViolation', constraint: { fields: ['id'] } }))).toBe(false);
    expect(isDatabaseUnavailable(sqlState('23505', 'duplicate key value violates unique constraint'))).toBe(false);
    expect(isDatabaseUnavailable(sqlState('42P01', 'relation "Nope" does not exist'))).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailable(new GraphQLError('bad', { extensions: { code: 'VALIDATION_FAILED' } }))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: 'VALIDATION_FAILED' }))).toBe(false);
    for (const value of [undefined, null, 'Connection terminated', 42]) expect(isDatabaseUnavailable(value)).toBe(false);
  });

  it('stops on an error that is its own cause', () => {
    const loop: Error & { cause?: unknown } = new Error('loop');
    loop.cause = loop;
    expect(isDatabaseUnavailable(loop)).toBe(false);
  });
});
