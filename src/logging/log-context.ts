// What a log line is about (the HTTP request, the graphql-ws socket and operation, the
// dispatch round and message), carried by AsyncLocalStorage so every line written while
// handling it carries the same ids, including lines from code that only has the root logger
// (services, provider adapters, Yoga's error logging).
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface LogContext {
  requestId?: string;
  /** graphql-ws: the socket's id is `requestId`; this is the client's operation id. */
  operationId?: string;
  dispatchRound?: string;
  messageId?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** The fields of the current context (pino's `mixin` adds them to every line). */
export function currentLogContext(): LogContext {
  return storage.getStore() ?? {};
}

/** Runs `fn` with `fields` added to the current context. */
export function withLogContext<T>(fields: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, fn);
}

// An incoming id is used only when it is short and plain: it is written into every log line
// and echoed in a header, so it must not carry line breaks, quotes or a megabyte of text.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The request's id: its `x-request-id` when acceptable, else a new one. */
export function requestIdFrom(header: string | string[] | null | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && ACCEPTABLE_ID.test(value) ? value : randomUUID();
}

export const REQUEST_ID_HEADER = 'x-request-id';
