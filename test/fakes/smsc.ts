// A fake SMSC speaking SMPP 3.4 over a real socket on 127.0.0.1 (built on the `smpp` package's
// server), for the SMPP adapter's tests and for end-to-end and failover tests with Herald
// pointed at it (SMPP_URL = fake.url).
//
//   const smsc = await startSmscFake({ systemId: 'herald', password: 'secret' });
//   smsc.url                      // smpp://herald:secret@127.0.0.1:<port>
//   smsc.submits / smsc.messages  // every submit_sm part / whole messages put back together
//   smsc.setMode({ throttle: 2 }) // next 2 submit_sm answered ESME_RTHROTTLED
//   smsc.dropConnections()        // destroys every socket at once
//   await smsc.sendInbound({ from: '+447700900123', to: '+15550001111', text: 'STOP' })
//   await smsc.close()
//
// Behaviour, as an SMSC:
// - bind_transceiver/transmitter/receiver: checks system_id and password; a mismatch is
//   answered ESME_RBINDFAIL and the connection closed. Any request before a bind gets ESME_RINVBNDSTS.
// - submit_sm: answered with increasing message ids (decimal, or hex with `idFormat: 'hex'`).
//   Destinations ending 0001 get ESME_RINVDSTADR; `mode.commandStatusFor` sets any answer by
//   destination; `mode.throttle` answers ESME_RTHROTTLED N times; `mode.responseDelayMs`
//   delays answers; `mode.withholdResponses` keeps them (until `releaseWithheld()`);
//   `mode.dropAfterSubmits: n` destroys every connection when the n-th submit_sm from then on
//   arrives: that one is taken (stored, receipted) but its answer is lost.
// - Delivery receipts: for each accepted part with registered_delivery, after
//   `receiptDelayMs`, a deliver_sm (esm_class 0x04) with the Appendix B text and (unless
//   `receiptTlvs: false`) receipted_message_id and message_state TLVs. The stat comes from
//   `receiptStat(destination)`: by default …0000 → UNDELIV, otherwise DELIVRD. A receipt not
//   answered ESME_ROK (error answer, no answer, connection gone) is redelivered on a bound
//   session, as SMSCs store and forward.
// - enquire_link answered and recorded; unbind answered and the connection closed; query_sm
//   answered from what it knows (ESME_RQUERYFAIL for an unknown id).

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { smpp, type SmppMessageValue, type SmppPdu, type SmppPduFields, type SmppSession } from '../../src/providers/smpp/smpp-session.js';

export type ReceiptStat = 'DELIVRD' | 'UNDELIV' | 'EXPIRED' | 'REJECTD' | 'DELETED' | 'ACCEPTD' | 'ENROUTE' | 'UNKNOWN';

export const ESME = {
  ROK: 0x00,
  RINVMSGLEN: 0x01,
  RINVBNDSTS: 0x04,
  RSYSERR: 0x08,
  RINVSRCADR: 0x0a,
  RINVDSTADR: 0x0b,
  RBINDFAIL: 0x0d,
  RMSGQFUL: 0x14,
  RSUBMITFAIL: 0x45,
  RTHROTTLED: 0x58,
  RX_T_APPN: 0x64,
  RQUERYFAIL: 0x67,
} as const;

const messageStates: Record<ReceiptStat, number> = { ENROUTE: 1, DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8 };

export interface SmscFakeOptions {
  systemId?: string;
  password?: string;
  /** Delay between accepting a part and its receipt. Default 5. */
  receiptDelayMs?: number;
  /** Send receipts at all. Default true. */
  receipts?: boolean;
  receiptStat?: (destination: string) => ReceiptStat;
  /** Include receipted_message_id / message_state TLVs. Default true. */
  receiptTlvs?: boolean;
  /** How submit_sm_resp spells ids. Default decimal. */
  idFormat?: 'decimal' | 'hex';
  /** How receipt texts spell ids. Default as idFormat (SMSCs that mix them exist). */
  receiptIdFormat?: 'decimal' | 'hex';
  /** Wait before redelivering an unacknowledged deliver_sm. Default 30. */
  redeliveryMs?: number;
}

export interface SmscMode {
  /** The next N submit_sm are answered ESME_RTHROTTLED. */
  throttle: number;
  responseDelayMs: number;
  withholdResponses: boolean;
  /** command_status by destination_addr (digits, no '+'). */
  commandStatusFor: Record<string, number>;
  /** Destroy every connection when the n-th submit_sm from now arrives (it is taken, its answer lost). */
  dropAfterSubmits: number | undefined;
}

export interface SubmitRecord {
  session: number;
  sourceAddr: string;
  sourceTon: number;
  sourceNpi: number;
  destinationAddr: string;
  destTon: number;
  destNpi: number;
  esmClass: number;
  dataCoding: number;
  registeredDelivery: number;
  text: string;
  /** Octets of the message part without UDH (one a septet for GSM, two a code unit for UCS-2). */
  octets: number;
  concatenation?: { reference: number; total: number; sequence: number };
  commandStatus: number;
  messageId?: string;
  at: number;
}

export interface SmscMessage {
  sourceAddr: string;
  destinationAddr: string;
  text: string;
  dataCoding: number;
  messageIds: string[];
}

export interface DeliveryRecord {
  kind: 'receipt' | 'mo';
  messageId?: string;
  /** deliver_sm_resp command_status, or -1 when unanswered (connection gone, timeout). */
  commandStatus: number;
}

export interface InboundOptions {
  from: string;
  to: string;
  text: string;
  /** 0 (GSM 03.38) or 8 (UCS-2); by default 0 when the package's GSM table can carry the text. */
  dataCoding?: number;
  /** Split into this many concatenated parts (UDH IEI 0x00, or sar_* TLVs with `sar`). Default 1. */
  parts?: number;
  sar?: boolean;
  reference?: number;
}

export interface SmscFake {
  url: string;
  port: number;
  readonly binds: { systemId: string; password: string; accepted: boolean }[];
  readonly submits: SubmitRecord[];
  readonly messages: SmscMessage[];
  readonly deliveries: DeliveryRecord[];
  readonly enquireLinks: number[];
  /** The most submit_sm ever unanswered at once on one connection. */
  readonly maxUnanswered: number;
  readonly boundSessions: number;
  setMode(patch: Partial<SmscMode>): void;
  dropConnections(): void;
  /** Answers every withheld submit_sm now (late answers), and stops withholding. */
  releaseWithheld(): void;
  sendReceipt(messageId: string, stat: ReceiptStat, err?: string): Promise<number>;
  /** Sends an MO message; resolves to each part's deliver_sm_resp command_status. */
  sendInbound(inbound: InboundOptions): Promise<number[]>;
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface SessionState {
  id: number;
  session: SmppSession;
  bound: boolean;
  unanswered: number;
}

export async function startSmscFake(options: SmscFakeOptions = {}): Promise<SmscFake> {
  const systemId = options.systemId ?? 'herald';
  const password = options.password ?? 'secret';
  const idFormat = options.idFormat ?? 'decimal';
  const receiptIdFormat = options.receiptIdFormat ?? idFormat;
  const receiptStat = options.receiptStat ?? ((destination: string) => (destination.endsWith('0000') ? 'UNDELIV' : 'DELIVRD'));
  const redeliveryMs = options.redeliveryMs ?? 30;

  const mode: SmscMode = { throttle: 0, responseDelayMs: 0, withholdResponses: false, commandStatusFor: {}, dropAfterSubmits: undefined };
  const binds: SmscFake['binds'] = [];
  const submits: SubmitRecord[] = [];
  const messages: SmscMessage[] = [];
  const deliveries: DeliveryRecord[] = [];
  const enquireLinks: number[] = [];
  const sessions = new Set<SessionState>();
  const withheld: (() => void)[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const partsInProgress = new Map<string, Map<number, { text: string; messageId: string }>>();
  const states = new Map<string, ReceiptStat>();
  let maxUnanswered = 0;
  let nextId = 1000;
  let nextSession = 0;
  let submitsSinceDropSet = 0;
  let closed = false;

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  const spell = (id: number, format: 'decimal' | 'hex') => (format === 'hex' ? id.toString(16).toUpperCase() : String(id));

  const server = smpp.createServer((session) => {
    const state: SessionState = { id: ++nextSession, session, bound: false, unanswered: 0 };
    sessions.add(state);
    session.on('error', () => session.destroy());
    session.on('close', () => sessions.delete(state));

    const bind = (pdu: SmppPdu) => {
      const accepted = pdu.system_id === systemId && pdu.password === password;
      binds.push({ systemId: pdu.system_id ?? '', password: pdu.password ?? '', accepted });
      if (!accepted) {
        session.send(pdu.response({ command_status: ESME.RBINDFAIL }));
        session.close();
        return;
      }
      state.bound = true;
      session.send(pdu.response({ system_id: 'herald-fake-smsc' }));
    };
    session.on('bind_transceiver', bind);
    session.on('bind_transmitter', bind);
    session.on('bind_receiver', bind);
    session.on('enquire_link', (pdu: SmppPdu) => {
      enquireLinks.push(Date.now());
      session.send(pdu.response());
    });
    session.on('unbind', (pdu: SmppPdu) => {
      state.bound = false;
      session.send(pdu.response());
      session.close();
    });
    session.on('query_sm', (pdu: SmppPdu) => {
      if (!state.bound) return void session.send(pdu.response({ command_status: ESME.RINVBNDSTS }));
      const stat = states.get(pdu.message_id ?? '');
      if (!stat) return void session.send(pdu.response({ command_status: ESME.RQUERYFAIL }));
      session.send(pdu.response({ message_id: pdu.message_id, final_date: '', message_state: messageStates[stat], error_code: 0 }));
    });
    session.on('submit_sm', (pdu: SmppPdu) => onSubmit(state, pdu));
  });

  function onSubmit(state: SessionState, pdu: SmppPdu): void {
    const { session } = state;
    if (!state.bound) return void session.send(pdu.response({ command_status: ESME.RINVBNDSTS }));
    state.unanswered += 1;
    maxUnanswered = Math.max(maxUnanswered, state.unanswered);

    const value = pdu.short_message as SmppMessageValue | undefined;
    const text = typeof value?.message === 'string' ? value.message : (value?.message?.toString('latin1') ?? '');
    const dataCoding = pdu.data_coding ?? 0;
    const destination = pdu.destination_addr ?? '';
    const concatenation = readUdhConcatenation(value?.udh);

    let commandStatus: number = ESME.ROK;
    if (mode.throttle > 0) {
      mode.throttle -= 1;
      commandStatus = ESME.RTHROTTLED;
    } else if (mode.commandStatusFor[destination] !== undefined) {
      commandStatus = mode.commandStatusFor[destination];
    } else if (destination.endsWith('0001')) {
      commandStatus = ESME.RINVDSTADR;
    }
    const numericId = commandStatus === ESME.ROK ? nextId++ : undefined;
    const messageId = numericId === undefined ? undefined : spell(numericId, idFormat);
    submits.push({
      session: state.id,
      sourceAddr: pdu.source_addr ?? '',
      sourceTon: pdu.source_addr_ton ?? 0,
      sourceNpi: pdu.source_addr_npi ?? 0,
      destinationAddr: destination,
      destTon: pdu.dest_addr_ton ?? 0,
      destNpi: pdu.dest_addr_npi ?? 0,
      esmClass: pdu.esm_class ?? 0,
      dataCoding,
      registeredDelivery: pdu.registered_delivery ?? 0,
      text,
      octets: dataCoding === 8 ? text.length * 2 : smpp.encodings.ASCII.encode(text).length,
      ...(concatenation ? { concatenation } : {}),
      commandStatus,
      ...(messageId ? { messageId } : {}),
      at: Date.now(),
    });
    if (numericId !== undefined && messageId !== undefined) {
      assemble(pdu, text, dataCoding, messageId, concatenation);
      states.set(messageId, 'ENROUTE');
      if ((options.receipts ?? true) && (pdu.registered_delivery ?? 0) & 0x03) {
        const stat = receiptStat(destination);
        later(options.receiptDelayMs ?? 5, () => {
          states.set(messageId, stat);
          deliverReceipt(spell(numericId, receiptIdFormat), messageId, stat, pdu, text);
        });
      }
    }

    if (mode.dropAfterSubmits !== undefined && ++submitsSinceDropSet >= mode.dropAfterSubmits) {
      mode.dropAfterSubmits = undefined;
      dropConnections();
      return;
    }
    const answer = () => {
      state.unanswered -= 1;
      session.send(pdu.response({ command_status: commandStatus, ...(messageId ? { message_id: messageId } : {}) }));
    };
    if (mode.withholdResponses) withheld.push(answer);
    else if (mode.responseDelayMs > 0) later(mode.responseDelayMs, answer);
    else answer();
  }

  function assemble(pdu: SmppPdu, text: string, dataCoding: number, messageId: string, concatenation: SubmitRecord['concatenation']): void {
    const base = { sourceAddr: pdu.source_addr ?? '', destinationAddr: pdu.destination_addr ?? '', dataCoding };
    if (!concatenation) {
      messages.push({ ...base, text, messageIds: [messageId] });
      return;
    }
    const key = `${base.sourceAddr}|${base.destinationAddr}|${concatenation.reference}|${concatenation.total}`;
    const parts = partsInProgress.get(key) ?? new Map<number, { text: string; messageId: string }>();
    partsInProgress.set(key, parts);
    parts.set(concatenation.sequence, { text, messageId });
    if (parts.size < concatenation.total) return;
    partsInProgress.delete(key);
    const ordered = [...parts.entries()].sort(([a], [b]) => a - b).map(([, part]) => part);
    messages.push({ ...base, text: ordered.map((part) => part.text).join(''), messageIds: ordered.map((part) => part.messageId) });
  }

  function deliverReceipt(receiptId: string, messageId: string, stat: ReceiptStat, submit: SmppPdu, text: string): void {
    const date = smppDate(new Date());
    const delivered = stat === 'DELIVRD' ? '001' : '000';
    const err = stat === 'DELIVRD' || stat === 'ENROUTE' || stat === 'ACCEPTD' ? '000' : '001';
    const body = `id:${receiptId} sub:001 dlvrd:${delivered} submit date:${date} done date:${date} stat:${stat} err:${err} text:${text.slice(0, 20).replace(/[^ -~]/g, '?')}`;
    const fields: SmppPduFields = {
      source_addr_ton: submit.dest_addr_ton,
      source_addr_npi: submit.dest_addr_npi,
      source_addr: submit.destination_addr,
      dest_addr_ton: submit.source_addr_ton,
      dest_addr_npi: submit.source_addr_npi,
      destination_addr: submit.source_addr,
      esm_class: 0x04,
      data_coding: 0,
      short_message: body,
      ...((options.receiptTlvs ?? true) ? { receipted_message_id: messageId, message_state: messageStates[stat] } : {}),
    };
    void deliverUntilAcknowledged('receipt', fields, messageId);
  }

  /** Sends a deliver_sm on a bound session until it is answered ESME_ROK (store and forward). */
  async function deliverUntilAcknowledged(kind: DeliveryRecord['kind'], fields: SmppPduFields, messageId?: string): Promise<number> {
    for (;;) {
      if (closed) return -1;
      const status = await deliverOnce(fields);
      deliveries.push({ kind, commandStatus: status, ...(messageId ? { messageId } : {}) });
      if (status === ESME.ROK || closed) return status;
      await new Promise<void>((resolve) => later(redeliveryMs, resolve));
    }
  }

  function deliverOnce(fields: SmppPduFields): Promise<number> {
    const target = [...sessions].find((s) => s.bound && s.session.socket.writable);
    if (!target) return new Promise((resolve) => later(redeliveryMs, () => resolve(-1)));
    return new Promise((resolve) => {
      const onClose = () => finish(-1);
      const timer = setTimeout(() => finish(-1), 2_000);
      function finish(status: number) {
        clearTimeout(timer);
        target!.session.off('close', onClose);
        resolve(status);
      }
      target.session.once('close', onClose);
      const written = target.session.send(new smpp.PDU('deliver_sm', { ...fields }), (response) => finish(response.command_status));
      if (!written) finish(-1);
    });
  }

  function dropConnections(): void {
    for (const state of [...sessions]) {
      state.bound = false;
      state.session.destroy();
    }
    withheld.length = 0;
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    url: `smpp://${encodeURIComponent(systemId)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    port,
    binds,
    submits,
    messages,
    deliveries,
    enquireLinks,
    get maxUnanswered() {
      return maxUnanswered;
    },
    get boundSessions() {
      return [...sessions].filter((s) => s.bound).length;
    },
    setMode(patch) {
      if (patch.dropAfterSubmits !== undefined) submitsSinceDropSet = 0;
      Object.assign(mode, patch);
    },
    dropConnections,
    releaseWithheld() {
      mode.withholdResponses = false;
      for (const answer of withheld.splice(0)) answer();
    },
    async sendReceipt(messageId, stat, err = stat === 'DELIVRD' ? '000' : '001') {
      const date = smppDate(new Date());
      return deliverUntilAcknowledged(
        'receipt',
        {
          esm_class: 0x04,
          data_coding: 0,
          short_message: `id:${messageId} sub:001 dlvrd:000 submit date:${date} done date:${date} stat:${stat} err:${err} text:`,
        },
        messageId,
      );
    },
    async sendInbound(inbound) {
      const dataCoding = inbound.dataCoding ?? (isGsm(inbound.text) ? 0 : 8);
      const chunks = splitEvenly(inbound.text, inbound.parts ?? 1);
      const reference = inbound.reference ?? 42;
      const from = inbound.from.replace(/^\+/, '');
      const to = inbound.to.replace(/^\+/, '');
      const statuses: number[] = [];
      for (const [index, chunk] of chunks.entries()) {
        const concatenated = chunks.length > 1;
        const fields: SmppPduFields = {
          source_addr_ton: /^\d+$/.test(from) ? 1 : 5,
          source_addr_npi: /^\d+$/.test(from) ? 1 : 0,
          source_addr: from,
          dest_addr_ton: /^\d+$/.test(to) ? 1 : 5,
          dest_addr_npi: /^\d+$/.test(to) ? 1 : 0,
          destination_addr: to,
          esm_class: 0,
          data_coding: dataCoding,
          short_message:
            concatenated && !inbound.sar ? { udh: Buffer.from([0x05, 0x00, 0x03, reference, chunks.length, index + 1]), message: chunk } : chunk,
          ...(concatenated && inbound.sar ? { sar_msg_ref_num: reference, sar_total_segments: chunks.length, sar_segment_seqnum: index + 1 } : {}),
        };
        statuses.push(await deliverOnce(fields));
        deliveries.push({ kind: 'mo', commandStatus: statuses.at(-1)! });
      }
      return statuses;
    },
    async waitFor(predicate, timeoutMs = 3_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error('smsc fake: condition not met in time');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const state of [...sessions]) state.session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readUdhConcatenation(elements: Buffer[] | undefined): SubmitRecord['concatenation'] {
  const element = elements?.find((e) => e[0] === 0x00 && e[1] === 3);
  return element ? { reference: element[2], total: element[3], sequence: element[4] } : undefined;
}

function isGsm(text: string): boolean {
  // The package's GSM table maps what it cannot carry to a space: a round trip tells.
  return smpp.encodings.ASCII.decode(smpp.encodings.ASCII.encode(text)) === text;
}

function splitEvenly(text: string, parts: number): string[] {
  const chars = [...text];
  const size = Math.ceil(chars.length / parts);
  return Array.from({ length: parts }, (_, i) => chars.slice(i * size, (i + 1) * size).join(''));
}

/** YYMMDDhhmm, as Appendix B writes receipt dates. */
function smppDate(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getUTCFullYear() % 100)}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}`;
}
