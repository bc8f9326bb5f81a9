// The file `herald backup` writes and `herald restore` reads: one header line, one manifest line
// (JSON), then the payload, the embedded database's data directory as a gzipped tarball.
//
// Why a manifest in front of the tarball: restore must refuse a truncated, corrupted or too-new
// file before it touches DATA_DIR. The payload's length and SHA-256 catch a cut or damaged
// file; the migrations it holds catch a backup made by a newer Herald, which this one could not
// run on. A gzip stream alone ends wherever it was cut and says nothing about its schema.
import { createHash } from 'node:crypto';

/** The first line of every backup file; the number is the format's version. */
const MAGIC = 'HERALD-BACKUP';
export const BACKUP_FORMAT = 1;
/** A manifest is a few kilobytes (one name per migration); more means this is not a backup. */
export const MAX_HEADER_BYTES = 1024 * 1024;

export interface BackupManifest {
  format: number;
  heraldVersion: string;
  pgliteVersion: string;
  postgresVersion: string;
  /** Applied migrations, in order: the schema the payload holds. */
  migrations: string[];
  createdAt: string;
  payloadBytes: number;
  payloadSha256: string;
}

/** Why a backup or a restore was refused; each is a clear message and nothing is left half done. */
export type BackupErrorCode =
  // the file
  | 'NOT_A_BACKUP'
  | 'UNSUPPORTED_FORMAT'
  | 'TRUNCATED'
  | 'CORRUPTED'
  | 'NEWER_SCHEMA'
  // the place
  | 'POSTGRES'
  | 'NO_DATABASE'
  | 'DATA_DIR_NOT_EMPTY'
  | 'FILE_EXISTS'
  | 'UNUSABLE'
  | 'SERVER_UNREACHABLE';

export class BackupError extends Error {
  override name = 'BackupError';
  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The header (magic line and manifest) written before a payload of known length and digest. */
export function encodeHeader(manifest: Omit<BackupManifest, 'format'>): Buffer {
  return Buffer.from(`${MAGIC} ${BACKUP_FORMAT}\n${JSON.stringify({ format: BACKUP_FORMAT, ...manifest })}\n`, 'utf8');
}

/** The whole file for a payload in memory: header, then payload. */
export function encodeBackup(manifest: Omit<BackupManifest, 'format' | 'payloadBytes' | 'payloadSha256'>, payload: Buffer): Buffer {
  const header = encodeHeader({ ...manifest, payloadBytes: payload.length, payloadSha256: createHash('sha256').update(payload).digest('hex') });
  return Buffer.concat([header, payload]);
}

/**
 * The manifest from the start of a file (`start`: its first bytes, at least the header; the
 * file's first MAX_HEADER_BYTES do), and where the payload begins.
 */
export function decodeHeader(start: Buffer): { manifest: BackupManifest; payloadOffset: number } | BackupError {
  const magicEnd = start.indexOf(0x0a);
  if (magicEnd < 0) {
    // A cut inside the first line still reads as the start of one.
    const text = start.subarray(0, 64).toString('latin1');
    return text.length > 0 && `${MAGIC} ${BACKUP_FORMAT}`.startsWith(text)
      ? new BackupError('TRUNCATED', 'the file ends inside its header: it was cut short')
      : new BackupError('NOT_A_BACKUP', `not a Herald backup (it does not start with "${MAGIC}")`);
  }
  const magic = /^HERALD-BACKUP (\d+)$/.exec(start.subarray(0, magicEnd).toString('latin1'));
  if (!magic) return new BackupError('NOT_A_BACKUP', `not a Herald backup (it does not start with "${MAGIC}")`);
  if (Number(magic[1]) !== BACKUP_FORMAT) {
    return new BackupError('UNSUPPORTED_FORMAT', `backup format ${magic[1]} is not one this Herald reads (it reads format ${BACKUP_FORMAT}); use the Herald that made it, or a newer one`);
  }
  const manifestEnd = start.indexOf(0x0a, magicEnd + 1);
  if (manifestEnd < 0) {
    return start.length >= MAX_HEADER_BYTES
      ? new BackupError('CORRUPTED', "the backup's manifest is unreadable")
      : new BackupError('TRUNCATED', 'the file ends inside its manifest: it was cut short');
  }
  const manifest = parseManifest(start.subarray(magicEnd + 1, manifestEnd).toString('utf8'));
  if (!manifest) return new BackupError('CORRUPTED', "the backup's manifest is unreadable");
  return { manifest, payloadOffset: manifestEnd + 1 };
}

/** Whether the payload found (its length and SHA-256, hex) is the one the manifest describes. */
export function checkPayload(manifest: BackupManifest, bytes: number, sha256: string): BackupError | undefined {
  if (bytes < manifest.payloadBytes) {
    return new BackupError('TRUNCATED', `the file was cut short: its database is ${manifest.payloadBytes} bytes, ${bytes} are there`);
  }
  if (bytes > manifest.payloadBytes) return new BackupError('CORRUPTED', `the file has ${bytes - manifest.payloadBytes} bytes more than its manifest says`);
  if (sha256 !== manifest.payloadSha256) return new BackupError('CORRUPTED', "the file is damaged: its database does not match the manifest's SHA-256");
  return undefined;
}

/** The manifest and payload of a file in memory, or why it is not a whole, intact backup. */
export function decodeBackup(file: Buffer): { manifest: BackupManifest; payload: Buffer } | BackupError {
  const header = decodeHeader(file.subarray(0, MAX_HEADER_BYTES));
  if (header instanceof BackupError) return header;
  const payload = file.subarray(header.payloadOffset);
  const problem = checkPayload(header.manifest, payload.length, createHash('sha256').update(payload).digest('hex'));
  return problem ?? { manifest: header.manifest, payload };
}

function parseManifest(text: string): BackupManifest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  const strings = ['heraldVersion', 'pgliteVersion', 'postgresVersion', 'createdAt', 'payloadSha256'] as const;
  if (m.format !== BACKUP_FORMAT || strings.some((k) => typeof m[k] !== 'string')) return undefined;
  if (!Number.isSafeInteger(m.payloadBytes) || (m.payloadBytes as number) < 0) return undefined;
  if (!Array.isArray(m.migrations) || !m.migrations.every((name) => typeof name === 'string')) return undefined;
  return m as unknown as BackupManifest;
}

/**
 * Whether this Herald (knowing `known` migrations) can run the backup's database: every
 * migration it holds must be one of ours. Fewer is fine: the next start applies the rest.
 */
export function checkSchema(manifest: BackupManifest, known: readonly string[]): BackupError | undefined {
  const ours = new Set(known);
  const unknown = manifest.migrations.filter((name) => !ours.has(name));
  if (unknown.length === 0) return undefined;
  return new BackupError(
    'NEWER_SCHEMA',
    `the backup was made by a newer Herald (${manifest.heraldVersion}): its database has migrations this one does not know (${unknown.join(', ')}); restore it with that version or newer`,
  );
}
