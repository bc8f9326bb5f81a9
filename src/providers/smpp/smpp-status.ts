// SMPP's vocabulary mapped onto Herald's, in one place: submit_sm_resp command_status values
// (SMPP 3.4 §5.1.3, plus the 5.0 additions the `smpp` package knows), and the delivery
// receipt states (3.4 Appendix B `stat:` words and the message_state TLV, §5.2.28).

import type { MessageStatus } from '../../domain/status-machine.js';
import type { ProviderErrorCode } from '../types.js';

export interface CommandStatusRule {
  name: string;
  /** `rejected`: the message itself is refused; `retryable`: the SMSC, link or account is the problem. */
  kind: 'rejected' | 'retryable';
  errorCode: ProviderErrorCode;
}

const rejected = (name: string, errorCode: ProviderErrorCode): CommandStatusRule => ({ name, kind: 'rejected', errorCode });
const retryable = (name: string, errorCode: ProviderErrorCode): CommandStatusRule => ({ name, kind: 'retryable', errorCode });

/**
 * Every non-zero command_status Herald gives a meaning. Only refusals of this message's
 * destination, sender or content are permanent; protocol and SMSC faults are the link's
 * problem (another provider may take the message), and bind/permission errors are the
 * account's (ACCOUNT_ERROR opens this provider's circuit breaker).
 */
export const commandStatuses: Readonly<Record<number, CommandStatusRule>> = {
  0x01: rejected('ESME_RINVMSGLEN', 'CONTENT_REJECTED'),
  0x02: retryable('ESME_RINVCMDLEN', 'PROVIDER_ERROR'),
  0x03: retryable('ESME_RINVCMDID', 'PROVIDER_ERROR'),
  // Bound as a receiver, or the bind was lost on the SMSC side: an account/link state.
  0x04: retryable('ESME_RINVBNDSTS', 'ACCOUNT_ERROR'),
  0x05: retryable('ESME_RALYBND', 'PROVIDER_ERROR'),
  0x06: retryable('ESME_RINVPRTFLG', 'PROVIDER_ERROR'),
  0x07: retryable('ESME_RINVREGDLVFLG', 'PROVIDER_ERROR'),
  0x08: retryable('ESME_RSYSERR', 'PROVIDER_ERROR'),
  // The SMSC refuses the sender id for this message (not provisioned, not allowed).
  0x0a: rejected('ESME_RINVSRCADR', 'BLOCKED'),
  0x0b: rejected('ESME_RINVDSTADR', 'INVALID_NUMBER'),
  0x0c: retryable('ESME_RINVMSGID', 'PROVIDER_ERROR'),
  0x0d: retryable('ESME_RBINDFAIL', 'ACCOUNT_ERROR'),
  0x0e: retryable('ESME_RINVPASWD', 'ACCOUNT_ERROR'),
  0x0f: retryable('ESME_RINVSYSID', 'ACCOUNT_ERROR'),
  0x11: retryable('ESME_RCANCELFAIL', 'PROVIDER_ERROR'),
  0x13: retryable('ESME_RREPLACEFAIL', 'PROVIDER_ERROR'),
  0x14: retryable('ESME_RMSGQFUL', 'THROTTLED'),
  0x15: retryable('ESME_RINVSERTYP', 'PROVIDER_ERROR'),
  0x33: retryable('ESME_RINVNUMDESTS', 'PROVIDER_ERROR'),
  0x34: retryable('ESME_RINVDLNAME', 'PROVIDER_ERROR'),
  0x40: retryable('ESME_RINVDESTFLAG', 'PROVIDER_ERROR'),
  0x42: retryable('ESME_RINVSUBREP', 'PROVIDER_ERROR'),
  0x43: retryable('ESME_RINVESMCLASS', 'PROVIDER_ERROR'),
  0x44: retryable('ESME_RCNTSUBDL', 'PROVIDER_ERROR'),
  0x45: retryable('ESME_RSUBMITFAIL', 'PROVIDER_ERROR'),
  0x48: rejected('ESME_RINVSRCTON', 'BLOCKED'),
  0x49: rejected('ESME_RINVSRCNPI', 'BLOCKED'),
  0x50: rejected('ESME_RINVDSTTON', 'INVALID_NUMBER'),
  0x51: rejected('ESME_RINVDSTNPI', 'INVALID_NUMBER'),
  0x53: retryable('ESME_RINVSYSTYP', 'ACCOUNT_ERROR'),
  0x54: retryable('ESME_RINVREPFLAG', 'PROVIDER_ERROR'),
  0x55: retryable('ESME_RINVNUMMSGS', 'PROVIDER_ERROR'),
  0x58: retryable('ESME_RTHROTTLED', 'THROTTLED'),
  0x61: retryable('ESME_RINVSCHED', 'PROVIDER_ERROR'),
  0x62: retryable('ESME_RINVEXPIRY', 'PROVIDER_ERROR'),
  0x63: retryable('ESME_RINVDFTMSGID', 'PROVIDER_ERROR'),
  0x64: retryable('ESME_RX_T_APPN', 'PROVIDER_ERROR'),
  // "Permanent" and "reject message" application errors: the SMSC refuses this message for good.
  0x65: rejected('ESME_RX_P_APPN', 'UNKNOWN'),
  0x66: rejected('ESME_RX_R_APPN', 'CONTENT_REJECTED'),
  0x67: retryable('ESME_RQUERYFAIL', 'PROVIDER_ERROR'),
  0xc0: retryable('ESME_RINVOPTPARSTREAM', 'PROVIDER_ERROR'),
  0xc1: retryable('ESME_ROPTPARNOTALLWD', 'PROVIDER_ERROR'),
  0xc2: retryable('ESME_RINVPARLEN', 'PROVIDER_ERROR'),
  0xc3: retryable('ESME_RMISSINGOPTPARAM', 'PROVIDER_ERROR'),
  0xc4: retryable('ESME_RINVOPTPARAMVAL', 'PROVIDER_ERROR'),
  // Transaction-mode delivery to the handset failed; it may succeed later.
  0xfe: retryable('ESME_RDELIVERYFAILURE', 'UNDELIVERABLE'),
  0xff: retryable('ESME_RUNKNOWNERR', 'UNKNOWN'),
  // SMPP 5.0 additions some 3.4 SMSCs also answer.
  0x100: retryable('ESME_RSERTYPUNAUTH', 'ACCOUNT_ERROR'),
  0x101: retryable('ESME_RPROHIBITED', 'ACCOUNT_ERROR'),
  0x102: retryable('ESME_RSERTYPUNAVAIL', 'PROVIDER_ERROR'),
  0x103: retryable('ESME_RSERTYPDENIED', 'ACCOUNT_ERROR'),
  0x104: retryable('ESME_RINVDCS', 'PROVIDER_ERROR'),
};

/** The command_status as the spec prints it, kept as `rawCode`: `0x00000058`. */
export function formatCommandStatus(status: number): string {
  return `0x${status.toString(16).toUpperCase().padStart(8, '0')}`;
}

/**
 * How a non-zero command_status classifies. Unknown codes (including the 0x400–0x4FF
 * vendor range) are UNKNOWN and transient: a link-level answer is no proof the message is bad.
 */
export function classifyCommandStatus(status: number): CommandStatusRule {
  return commandStatuses[status] ?? retryable(status >= 0x400 && status <= 0x4ff ? 'vendor-specific' : 'unknown', 'UNKNOWN');
}

/** Bind refusals that mean the credentials or account, not the link. */
export function isAccountStatus(status: number): boolean {
  return commandStatuses[status]?.errorCode === 'ACCOUNT_ERROR';
}

export interface ReceiptStateRule {
  status: MessageStatus;
  errorCode?: ProviderErrorCode;
}

/**
 * Appendix B `stat:` words. ACCEPTD ("read on behalf of the subscriber by customer service"),
 * ENROUTE and UNKNOWN are not final: the message stays SENT. DELETED means the SMSC dropped
 * it (administratively or by replace/cancel): FAILED, as nothing reached the handset.
 */
export const receiptStates: Readonly<Record<string, ReceiptStateRule>> = {
  DELIVRD: { status: 'DELIVERED' },
  UNDELIV: { status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' },
  EXPIRED: { status: 'EXPIRED', errorCode: 'EXPIRED' },
  REJECTD: { status: 'REJECTED', errorCode: 'UNKNOWN' },
  DELETED: { status: 'FAILED', errorCode: 'UNKNOWN' },
  ACCEPTD: { status: 'SENT' },
  ENROUTE: { status: 'SENT' },
  UNKNOWN: { status: 'SENT' },
  // SMPP 5.0: the SMSC skipped the message (e.g. a broadcast it could not place).
  SKIPPED: { status: 'FAILED', errorCode: 'UNKNOWN' },
};

/** message_state TLV / query_sm_resp values (§5.2.28) as the Appendix B word they stand for. */
export const messageStateWords: Readonly<Record<number, string>> = {
  0: 'SCHEDULED',
  1: 'ENROUTE',
  2: 'DELIVRD',
  3: 'EXPIRED',
  4: 'DELETED',
  5: 'UNDELIV',
  6: 'ACCEPTD',
  7: 'UNKNOWN',
  8: 'REJECTD',
  9: 'SKIPPED',
};

/** A receipt word Herald does not know keeps the message SENT rather than guess a final status. */
export function mapReceiptState(word: string): ReceiptStateRule {
  return receiptStates[word.toUpperCase()] ?? { status: 'SENT' };
}
