// A typed view of the parts of the `smpp` package (0.5.x, untyped CommonJS) that Herald uses,
// for the adapter and for the test SMSC. Loaded with `createRequire` because its constants
// (`ESME_*`, `consts`) are attached in a loop Node's ESM named-export detection cannot see.

import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import type { Server } from 'node:net';

/** A decoded `short_message` / `message_payload`: the package splits the UDH off when esm_class says so. */
export interface SmppMessageValue {
  /** Information elements, each `[iei, length, ...data]` (not the leading UDHL byte). */
  udh?: Buffer[];
  message: string | Buffer;
}

/** The PDU fields Herald reads or writes. Everything is optional: which ones exist depends on the command. */
export interface SmppPduFields {
  command_status?: number;
  sequence_number?: number;
  system_id?: string;
  password?: string;
  system_type?: string;
  interface_version?: number;
  service_type?: string;
  source_addr_ton?: number;
  source_addr_npi?: number;
  source_addr?: string;
  dest_addr_ton?: number;
  dest_addr_npi?: number;
  destination_addr?: string;
  esm_class?: number;
  protocol_id?: number;
  registered_delivery?: number;
  data_coding?: number;
  /** A string is encoded by data_coding; `{udh, message}` prepends the UDH and sets UDHI. */
  short_message?: string | Buffer | SmppMessageValue | { udh: Buffer; message: string | Buffer };
  message_payload?: string | Buffer | SmppMessageValue;
  message_id?: string;
  final_date?: string | Date;
  message_state?: number;
  error_code?: number;
  receipted_message_id?: string;
  network_error_code?: Buffer;
  sar_msg_ref_num?: number;
  sar_total_segments?: number;
  sar_segment_seqnum?: number;
}

export interface SmppPdu extends SmppPduFields {
  readonly command: string;
  readonly command_id: number;
  command_status: number;
  sequence_number: number;
  isResponse(): boolean;
  response(options?: SmppPduFields): SmppPdu;
}

export interface SmppSession extends EventEmitter {
  readonly socket: import('node:net').Socket;
  /** Returns false (and never calls back) when the socket is not writable. */
  send(pdu: SmppPdu, onResponse?: (response: SmppPdu) => void, onWritten?: (pdu: SmppPdu) => void): boolean;
  close(callback?: () => void): void;
  destroy(callback?: () => void): void;
  pause(): void;
  resume(): void;
}

export interface SmppServer extends Server {
  readonly sessions: SmppSession[];
}

export interface SmppModule {
  connect(options: { host: string; port: number; tls?: boolean; rejectUnauthorized?: boolean }): SmppSession;
  createServer(listener: (session: SmppSession) => void): SmppServer;
  PDU: new (command: string, options?: SmppPduFields) => SmppPdu;
  /** The command_status names and values the package knows (SMPP 3.4 and 5.0). */
  errors: Record<string, number>;
  /** The package's text codecs by name (`ASCII` is its GSM 03.38 table, one octet a septet). */
  encodings: Record<'ASCII' | 'LATIN1' | 'UCS2', { encode(text: string): Buffer; decode(octets: Buffer): string }>;
}

const require = createRequire(import.meta.url);

export const smpp = require('smpp') as SmppModule;
