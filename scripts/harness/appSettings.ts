/**
 * The tray app's settings under plain Node, for the tests and the fuzzing
 * of the settings file: a cipher with Electron's safeStorage shape, and
 * `conf` (the library under electron-store) with the options the app gives.
 */
import crypto from 'node:crypto';
import type { SecretCipher } from '../../src/main/settings/secrets';
import type { SettingsBackend } from '../../src/main/settings/settingsEditor';
import type { BackendOptions } from '../../src/main/settings/settingsFile';

/** AES-256-GCM under a random key: the shape of Electron's safeStorage, for Node. */
export function testCipher(available = true): SecretCipher & { encrypted: number } {
  const key = crypto.randomBytes(32);
  const cipher = {
    encrypted: 0,
    isEncryptionAvailable: () => available,
    encryptString(plain: string): Buffer {
      cipher.encrypted++;
      const iv = crypto.randomBytes(12);
      const c = crypto.createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    decryptString(data: Buffer): string {
      const d = crypto.createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      d.setAuthTag(data.subarray(12, 28));
      return Buffer.concat([d.update(data.subarray(28)), d.final()]).toString('utf8');
    },
  };
  return cipher;
}

/** conf with the options electron-store would get: the same schema and validation. */
export async function confBackend(options: BackendOptions): Promise<SettingsBackend> {
  const { default: Conf } = await import('conf');
  return new Conf(options as never) as unknown as SettingsBackend;
}
