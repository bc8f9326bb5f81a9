import { decodeGlobalID } from '@pothos/plugin-relay';
import { isUuid } from '../domain/ids.js';

/**
 * Accepts a Relay global id of `typename` (what the API returns) or the raw database id
 * (what logs and provider callbacks show). Anything else yields undefined, never a database
 * error from a malformed uuid.
 */
export function parseId(id: string, typename: string): string | undefined {
  if (isUuid(id)) return id.toLowerCase();
  try {
    const decoded = decodeGlobalID(id);
    return decoded.typename === typename && isUuid(decoded.id) ? decoded.id.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}
