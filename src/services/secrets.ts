// The per-install secrets Herald keeps in its database (store/secrets.ts), by name, each in the
// form its user needs.
import type { SecretStore } from '../store/secrets.js';

export const SIMULATOR_SECRET_KEY = 'simulator.webhookSecret';

export const MESSAGE_SEAL_KEY = 'message.sealKey';

export const VERIFICATION_KEY_SETTING = 'verification.hmacKey';

/** The secret the simulator provider signs its webhooks with. */
export function getSimulatorSecret(secrets: SecretStore): Promise<string> {
  return secrets.getOrCreate(SIMULATOR_SECRET_KEY);
}

/** The per-install AES-256 key sealing secret message bodies (32 bytes). */
export async function getMessageSealKey(secrets: SecretStore): Promise<Buffer> {
  return Buffer.from(await secrets.getOrCreate(MESSAGE_SEAL_KEY), 'hex');
}

/** The per-install HMAC key for verification codes, shared by every instance on the database. */
export async function getVerificationKey(secrets: SecretStore): Promise<Buffer> {
  return Buffer.from(await secrets.getOrCreate(VERIFICATION_KEY_SETTING), 'hex');
}

export const CONFIG_SEAL_KEY = 'config.sealKey';

/** The per-install AES-256 key sealing providers' credentials set at run time (32 bytes). */
export async function getConfigSealKey(secrets: SecretStore): Promise<Buffer> {
  return Buffer.from(await secrets.getOrCreate(CONFIG_SEAL_KEY), 'hex');
}
