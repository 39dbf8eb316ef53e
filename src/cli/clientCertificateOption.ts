/**
 * `--cert FILE --key FILE` (PEM) or `--pfx FILE` (PKCS#12): the client
 * certificate `connect` and `client` present to the endpoint. A PKCS#12
 * file's passphrase comes from WSSH_PFX_PASSPHRASE, or is asked for on the
 * terminal when stdin is one (never as an option: a command line is visible
 * to other users). `wssh client` runs under ssh with stdin a pipe, so there
 * the variable is the way.
 */
import fs from 'node:fs';
import tty from 'node:tty';
import type { Endpoint } from '../shared/endpoint';
import { ClientCertificate, ClientCertificateError, checkClientCertificate } from '../core/dial/trust/clientCertificate';
import { CommandValues, UsageError } from './options';
import { promptHidden } from './terminalPrompt';
import { PFX_PASSPHRASE_ENV, describeConfigError } from './configRemedies';

export interface PassphraseSource {
  env: NodeJS.ProcessEnv;
  /** Asks on the terminal; undefined when there is none. */
  ask?: (prompt: string) => Promise<string>;
}

const defaultSource = (): PassphraseSource => ({
  env: process.env,
  // Looked at only when a passphrase is missing, and without process.stdin:
  // on Windows Node a Linux pipe as stdin fails at the stream's first use
  // (see openStdio in clientCommand.ts), which would break every `wssh client`.
  get ask() {
    return tty.isatty(0) ? (prompt: string) => promptHidden(prompt, 'cancelled') : undefined;
  },
});

/** The client certificate the options give, checked; undefined when none is given. @throws {UsageError} */
export async function clientCertificateOption(
  values: CommandValues,
  endpoint: Endpoint,
  source: PassphraseSource = defaultSource(),
): Promise<ClientCertificate | undefined> {
  const cert = stringOption(values.cert);
  const key = stringOption(values.key);
  const pfx = stringOption(values.pfx);
  if (cert === undefined && key === undefined && pfx === undefined) return undefined;
  if (!endpoint.secure) throw new UsageError(`--cert, --key, --pfx: only for wss:// endpoints (${endpoint.display} has no TLS)`);
  if (pfx !== undefined && (cert !== undefined || key !== undefined)) throw new UsageError('--pfx and --cert/--key: give one of them');
  let certificate: ClientCertificate;
  if (pfx !== undefined) {
    certificate = { pfx: readFile('pfx', pfx), source: pfx };
    const fromEnv = source.env[PFX_PASSPHRASE_ENV];
    if (fromEnv !== undefined) certificate.passphrase = fromEnv;
    else if (!opens(certificate) && source.ask) certificate.passphrase = await source.ask(`passphrase for ${pfx}: `);
  } else {
    if (cert === undefined) throw new UsageError('--key needs --cert: the certificate that goes with the key');
    if (key === undefined) throw new UsageError('--cert needs --key: the private key of the certificate (or use --pfx)');
    certificate = { cert: readFile('cert', cert).toString('utf8'), key: readFile('key', key).toString('utf8'), source: cert };
  }
  try {
    checkClientCertificate(certificate);
  } catch (err) {
    if (!(err instanceof ClientCertificateError)) throw err;
    // Nobody can be asked: the variable is the one way left.
    const cannotAsk = pfx !== undefined && err.hint === 'give-passphrase' && source.env[PFX_PASSPHRASE_ENV] === undefined && !source.ask;
    const said = describeConfigError(err, pfx !== undefined ? '--pfx' : '--cert');
    throw new UsageError(cannotAsk ? `${said} (set ${PFX_PASSPHRASE_ENV}: stdin is not a terminal)` : said);
  }
  return certificate;
}

/** Whether the PKCS#12 file opens without a passphrase (some are made with an empty one). */
function opens(certificate: ClientCertificate): boolean {
  try {
    checkClientCertificate(certificate);
    return true;
  } catch {
    return false;
  }
}

function readFile(option: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new UsageError(`--${option} "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function stringOption(value: CommandValues[string]): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
