/**
 * Core's configuration errors (core/tunnel/configErrors.ts) in the CLI's words: the
 * flag at fault, what is wrong, and what to type instead. Core says nothing
 * about flags, so that the tray app can say the same thing with its fields.
 */
import { ConfigError, type ConfigField, type ConfigProblem } from '../core/tunnel/configErrors';
import { TunnelError } from '../core/tunnel/tunnelError';

/** The environment variable a PKCS#12 file's passphrase comes from (clientCertificateOption.ts reads it). */
export const PFX_PASSPHRASE_ENV = 'WSSH_PFX_PASSPHRASE';

/** The flag that sets `field`, as --help lists it. */
export function flagOf(field: ConfigField): string {
  switch (field) {
    case 'systemCa':
      return '--system-ca';
    case 'pin':
      return '--pin';
    case 'pinOnly':
      return '--pin-only';
    case 'servername':
      return '--servername';
    case 'proxy':
      return '--proxy';
    case 'proxySignIn':
      return '--proxy-clear-basic';
    case 'clientCertificate':
      return '--cert, --key, --pfx';
  }
}

/** What the CLI needs of an error to word it: a ConfigError, or a refusal's message with the problem it carried. */
export type ConfigFailure = ConfigProblem & Pick<ConfigError, 'message' | 'detail' | 'subject'>;

/**
 * One line for a setting that cannot work. `flag` is the flag the user gave,
 * when the caller knows it better than the field does (`--pfx` or `--cert`).
 */
export function describeConfigError(err: ConfigFailure, flag = flagOf(err.field)): string {
  switch (err.hint) {
    case 'fix-value':
      // The value as typed after its flag: `--pin "AB:CD": expected …`; a sentence of its own after a colon.
      return err.subject === undefined ? `${flag}: ${err.detail}` : `${flag} ${err.detail}`;
    case 'add-pin':
      return `${flag} needs --pin: the fingerprint the certificate must have`;
    case 'add-ca':
      return `${flag}: ${err.detail}: give the CA with --ca FILE`;
    case 'add-ca-or-newer-node':
      return (
        `${flag}: ${err.detail}: use Node 22.15 or newer, or give the CA with --ca FILE or in NODE_EXTRA_CA_CERTS ` +
        '(or, without --ca, start Node with --use-openssl-ca)'
      );
    case 'give-passphrase':
      return `${flag}: ${err.detail}: give it (${PFX_PASSPHRASE_ENV}, or type it when asked)`;
    case 'fix-passphrase':
      return `${flag}: ${err.detail}`;
    case 'present-accepted-certificate':
      return `${err.message}: give the endpoint a client certificate the gateway accepts (--cert FILE --key FILE, or --pfx FILE)`;
    case 'choose-proxy':
      return `${err.message}: fix that setting, or use --proxy URL or --no-proxy instead`;
    case 'approve-windows-sign-in':
      return `${err.message}: to send it there, name that proxy yourself with --proxy URL, if you trust it`;
    case 'allow-clear-basic':
      return `${err.message}: use an https:// proxy, or send it anyway with ${flag}`;
  }
}

/** A refusal's reason with the remedy for the setting that caused it, if one did. */
export function describeRefusal(reason: string, setting: ConfigProblem | undefined): string {
  return setting ? describeConfigError({ ...setting, message: reason, detail: reason }) : reason;
}

/** Any error as the CLI prints it: configuration errors (also inside a refused dial) with their remedy. */
export function errorText(err: Error): string {
  if (err instanceof ConfigError) return describeConfigError(err);
  if (err instanceof TunnelError) return describeRefusal(err.message, err.setting);
  return err.message;
}
