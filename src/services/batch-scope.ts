// What one sendMessages call reads once, however many chunks it is checked in: its template
// (so every recipient gets the same version, as in one call), the account's sender identities
// and the screening verdict of each distinct text. Scoped to the call: nothing outlives it.
import type { AccountIdentity } from '../store/sender-identities.js';
import type { ComplianceDeps, SendReads } from './send-pipeline.js';

function once<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) cache.set(key, (value = load()));
  return value;
}

export function readsOncePerBatch(store: SendReads): SendReads {
  const templates = new Map<string, ReturnType<SendReads['templates']['findLive']>>();
  const identities = new Map<string, Promise<AccountIdentity[]>>();
  return {
    templates: {
      // A locking read (an edit's transaction) is never shared.
      findLive: (accountId, id, options) =>
        options ? store.templates.findLive(accountId, id, options) : once(templates, `${accountId}:${id}`, () => store.templates.findLive(accountId, id)),
      lockName: (tx, accountId, name) => store.templates.lockName(tx, accountId, name),
    },
    senderIdentities: {
      listForAccount: (accountId) => once(identities, accountId, () => store.senderIdentities.listForAccount(accountId)),
      findOwner: (value) => store.senderIdentities.findOwner(value),
    },
    optOuts: store.optOuts,
  };
}

/** The verdict depends on the text and the account only; a plain-body batch has one text. */
export function screeningOncePerText(compliance: ComplianceDeps): ComplianceDeps {
  // Keyed by the text itself (a string from the request caches its hash), per account.
  const verdicts = new Map<string, Map<string, Promise<string[]>>>();
  return {
    screen: (accountId, text) => {
      let ofAccount = verdicts.get(accountId);
      if (!ofAccount) verdicts.set(accountId, (ofAccount = new Map()));
      return once(ofAccount, text, () => compliance.screen(accountId, text));
    },
    checkSendLimits: (accountId, items) => compliance.checkSendLimits(accountId, items),
    otpBypassesOptOut: (accountId) => compliance.otpBypassesOptOut(accountId),
  };
}
