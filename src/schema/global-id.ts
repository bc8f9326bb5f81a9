import { decodeGlobalID } from '@pothos/plugin-relay';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Accepts a Relay global id of `typename` (what the API returns) or the raw database id
 * (what logs and provider callbacks show). Anything else yields undefined, never a database
 * error from a malformed uuid.
 */
export function parseId(id: string, typename: string): string | undefined {
  if (UUID.test(id)) return id.toLowerCase();
  try {
    const decoded = decodeGlobalID(id);
    return decoded.typename === typename && UUID.test(decoded.id) ? decoded.id.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}
