import { decodeGlobalID } from '@pothos/plugin-relay';
import { isUuid } from '../domain/ids.js';
import { NotFoundError } from '../domain/errors.js';

/** The node types an ID argument can name, and how a NotFoundError calls each. */
const nouns = {
  ApiKey: 'API key',
  Batch: 'batch',
  Message: 'message',
  Price: 'price',
  SenderIdentity: 'sender identity',
  Template: 'template',
  WebhookEndpoint: 'webhook endpoint',
} as const;

export type IdTypename = keyof typeof nouns;

/** A uuid no row has: a filter or lookup given an id of nothing then matches nothing. */
export const NO_ROW_ID = '00000000-0000-0000-0000-000000000000';

/**
 * The database id an ID argument names: a Relay global id of `typename` (what the API returns)
 * or the raw uuid (what logs and provider callbacks show). Anything else names nothing, never a
 * database error from a malformed uuid, and gives a NotFoundError naming the type, or `orElse`
 * when given: NO_ROW_ID for filters, null for lookups, the id as given for a service that says
 * which id it could not find.
 */
export function decodeId(id: string | number, typename: IdTypename): string | NotFoundError;
export function decodeId<Else>(id: string | number, typename: IdTypename, orElse: Else): string | Else;
export function decodeId(id: string | number, typename: IdTypename, ...orElse: unknown[]): unknown {
  const raw = String(id);
  const decoded = isUuid(raw) ? raw : globalIdOf(raw, typename);
  if (decoded) return decoded.toLowerCase();
  return orElse.length ? orElse[0] : new NotFoundError(nouns[typename]);
}

function globalIdOf(id: string, typename: IdTypename): string | undefined {
  try {
    const decoded = decodeGlobalID(id);
    return decoded.typename === typename && isUuid(decoded.id) ? decoded.id : undefined;
  } catch {
    return undefined;
  }
}
