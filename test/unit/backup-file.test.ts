// The backup file's header and manifest (src/domain/backup-file.ts): every way a file can be
// cut or damaged is found before a restore touches DATA_DIR.
import { describe, expect, it } from 'vitest';
import { BackupError, checkSchema, decodeBackup, encodeBackup } from '../../src/domain/backup-file.js';

const MANIFEST = {
  heraldVersion: '0.1.0',
  pgliteVersion: '0.5.16',
  postgresVersion: '18.6',
  migrations: ['20260101000000_init', '20260102000000_more'],
  createdAt: '2026-12-03T12:00:00.000Z',
};
const PAYLOAD = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31) % 256));
const FILE = encodeBackup(MANIFEST, PAYLOAD);

const codeOf = (result: ReturnType<typeof decodeBackup>) => (result instanceof BackupError ? result.code : 'OK');

describe('backup file', () => {
  it('round-trips the manifest and payload, with the payload length and SHA-256 filled in', () => {
    const decoded = decodeBackup(FILE);
    if (decoded instanceof BackupError) throw decoded;
    expect(decoded.payload.equals(PAYLOAD)).toBe(true);
    expect(decoded.manifest).toMatchObject({ ...MANIFEST, format: 1, payloadBytes: 5000 });
    expect(decoded.manifest.payloadSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('finds a file cut anywhere as TRUNCATED', () => {
    const headerEnd = FILE.indexOf(0x0a, FILE.indexOf(0x0a) + 1) + 1;
    for (const length of [1, 8, 15, 16, 40, headerEnd - 1, headerEnd, headerEnd + 1, FILE.length / 2, FILE.length - 1]) {
      expect(codeOf(decodeBackup(FILE.subarray(0, Math.floor(length)))), `cut at ${length}`).toBe('TRUNCATED');
    }
  });

  it('finds a damaged payload, extra bytes and a broken manifest as CORRUPTED', () => {
    const flipped = Buffer.from(FILE);
    flipped[flipped.length - 10]! ^= 1;
    expect(codeOf(decodeBackup(flipped))).toBe('CORRUPTED');
    expect(codeOf(decodeBackup(Buffer.concat([FILE, Buffer.from('x')])))).toBe('CORRUPTED');
    const text = FILE.toString('latin1');
    expect(codeOf(decodeBackup(Buffer.from(text.replace('"payloadBytes":5000', '"payloadBytes":"5000"'), 'latin1')))).toBe('CORRUPTED');
    expect(codeOf(decodeBackup(Buffer.from(text.replace('{"format"', '["format"'), 'latin1')))).toBe('CORRUPTED');
  });

  it('refuses other files and other formats', () => {
    expect(codeOf(decodeBackup(Buffer.alloc(0)))).toBe('NOT_A_BACKUP');
    expect(codeOf(decodeBackup(Buffer.from('PGDMP\u0001\u000e\u0000 a pg_dump file\n')))).toBe('NOT_A_BACKUP');
    expect(codeOf(decodeBackup(Buffer.from('\u001f\u008b a gzip stream')))).toBe('NOT_A_BACKUP');
    const future = Buffer.concat([Buffer.from('HERALD-BACKUP 2\n'), FILE.subarray(FILE.indexOf(0x0a) + 1)]);
    const result = decodeBackup(future);
    expect(codeOf(result)).toBe('UNSUPPORTED_FORMAT');
    expect((result as BackupError).message).toMatch(/format 2 is not one this Herald reads/);
  });

  it('accepts a backup with fewer migrations than this Herald knows, refuses one with a migration it does not know', () => {
    const decoded = decodeBackup(FILE);
    if (decoded instanceof BackupError) throw decoded;
    expect(checkSchema(decoded.manifest, [...MANIFEST.migrations, '20260103000000_newer'])).toBeUndefined();
    const newer = checkSchema(decoded.manifest, ['20260101000000_init']);
    expect(newer?.code).toBe('NEWER_SCHEMA');
    expect(newer?.message).toMatch(/made by a newer Herald \(0\.1\.0\).*20260102000000_more/);
  });
});
