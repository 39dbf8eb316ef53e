/**
 * Endpoint secrets at rest: encrypted with the OS key store (Electron's
 * safeStorage: DPAPI on Windows) and kept as base64 in the settings file.
 *
 * The main process hands in safeStorage itself; tests hand in a cipher of
 * their own with the same shape, so nothing here needs Electron.
 */

/** The part of Electron's `safeStorage` this app uses. */
export interface SecretCipher {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

export class SecretError extends Error {
  override name = 'SecretError';
}

/** Encrypts a secret for the settings file. Refuses rather than store it in plain text. */
export function sealSecret(cipher: SecretCipher, secret: string): string {
  if (!cipher.isEncryptionAvailable()) {
    throw new SecretError('the OS key store is not available, so the secret cannot be stored safely');
  }
  return cipher.encryptString(secret).toString('base64');
}

/** Decrypts a secret from the settings file. */
export function openSecret(cipher: SecretCipher, sealed: string): string {
  if (!cipher.isEncryptionAvailable()) {
    throw new SecretError('the OS key store is not available, so the stored secret cannot be read');
  }
  try {
    return cipher.decryptString(Buffer.from(sealed, 'base64'));
  } catch {
    // DPAPI ties the key to the Windows user: a settings file copied from
    // another account or machine cannot be read.
    throw new SecretError('the stored secret cannot be decrypted (settings from another user or machine?): enter it again');
  }
}
