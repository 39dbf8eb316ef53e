/**
 * `wssh client`: one tunnel on stdin/stdout, for OpenSSH's ProxyCommand.
 * Everything but SSH bytes goes to stderr, which ssh shows to the user:
 * stdout is reserved for the relay before anything else runs (stdoutGuard.ts).
 */
import fs from 'node:fs';
import { Duplex, Readable, Writable } from 'node:stream';
import { parseTunnelUri, plainCredentialsWarning, redactUserinfo } from '../shared/endpoint';
import { TargetError, parseTarget } from '../shared/target';
import { profileSettings } from './profileOption';
import { dialRoutes } from '../core/dial/proxyRoutes';
import { type DialAttempt, dialTunnel, startTunnel } from '../core/dial/resumingTunnel';
import { CommandValues, UsageError, secondsOption, trustOptions } from './options';
import { proxyChoice } from './proxyChoice';
import { planDial } from '../core/dial/endpointPlan';
import { clientCertificateOption } from './clientCertificateOption';
import { stderrNote } from './logLine';
import { reserveStdout } from './stdoutGuard';

/** After SIGHUP or SIGTERM, how long the tunnel's close may take before the process exits anyway. */
const SIGNAL_GRACE_MS = 2000;

export async function runClient(values: CommandValues, [uri]: string[]): Promise<number> {
  // First: a PAC script loaded below runs code, and nothing but the relay may write to stdout.
  const stdout = reserveStdout();
  let tunnel;
  let trust;
  let proxyValues = values;
  let resume = values['no-resume'] !== true;
  let profileProxy = false;
  if (values.profile !== undefined) {
    // With a profile the argument is only the target: host or host:port.
    const settings = profileSettings(values);
    let target;
    try {
      target = parseTarget(uri);
    } catch (err) {
      if (err instanceof TargetError) throw new UsageError(`target "${uri}": ${err.message} (with --profile, give host or host:port)`);
      throw err;
    }
    tunnel = { endpoint: settings.endpoint, target };
    ({ trust, proxyValues, resume, profileProxy } = settings);
    if (settings.note) stderrNote(settings.note);
  } else {
    try {
      tunnel = parseTunnelUri(uri);
    } catch (err) {
      throw new UsageError(`"${redactUserinfo(uri)}": ${(err as Error).message}`);
    }
    // Every option is checked before the network is touched.
    trust = trustOptions(values, tunnel.endpoint);
  }
  trust.clientCertificate = await clientCertificateOption(values, tunnel.endpoint);
  // An unusable HTTPS_PROXY is a usage error too; a PAC script is loaded now.
  const note = stderrNote;
  const proxy = await proxyChoice(proxyValues, tunnel.endpoint, note, profileProxy);
  const plan = planDial({ proxy: proxy.source, proxyRules: proxy.rules, trust, keepaliveMs: secondsOption(values, 'keepalive'), log: note });
  const plain = plainCredentialsWarning(tunnel.endpoint);
  if (plain) stderrNote(`warning: ${plain}`);
  // So is stdio: a handle Node cannot use must not leave a tunnel open behind it.
  const io = openStdio(stdout);
  // The first dial and every resume's: the same proxy choice, sign-in, trust and certificate.
  const { endpoint, target } = tunnel;
  const attempt: DialAttempt = async ({ headers, onUpgrade, signal }) =>
    dialRoutes(endpoint, target, await plan.resolveProxy(endpoint), { ...plan.dial, headers, onUpgrade, signal });
  const first = await dialTunnel(attempt, { resume, log: note });
  const stdio = Duplex.from({ readable: io.input, writable: io.output });
  const relay = startTunnel(stdio, first, attempt, { keepaliveMs: plan.keepaliveMs, log: note });
  relay.on('text', (message) => stderrNote(`the server says: ${message}`));
  // ssh sends its ProxyCommand SIGHUP when the session is over, often before
  // our close has reached the server: say it is over (a resumable tunnel's
  // server would otherwise park the sshd connection for the resume window),
  // then exit once the close is out, or after a moment.
  const onSignal = (signal: NodeJS.Signals) => {
    relay.abort(`the SSH client ended the tunnel (${signal})`);
    setTimeout(() => process.exit(0), SIGNAL_GRACE_MS).unref();
  };
  for (const signal of ['SIGHUP', 'SIGTERM', 'SIGINT'] as const) process.once(signal, onSignal);
  // The relay ends stdout once the WebSocket has closed; when that is flushed
  // the tunnel is over. Do not linger for ssh to close stdin first (the
  // relay's linger is for TCP peers): ssh's ProxyCommand stdio are pipes, on
  // which ssh sees EOF only when this process closes them, so ssh would wait
  // out the linger before it reports the closed connection.
  stdio.once('finish', () => stdio.destroy());
  const result = await relay.done;
  // stdin may still hold a read handle open; the tunnel is over.
  // (A read of the fallback stdin cannot be cancelled: the process exits when
  // the parent closes stdin, as ssh does once it sees stdout end.)
  io.input.destroy();
  // A session lost to a break (not resumed) fails, as the server's message does; the tunnel said why on stderr.
  return result.peerMessage !== undefined || ('lost' in result && result.lost) ? 1 : 0;
}

/**
 * stdin and stdout as streams. Node opens a pipe or socket with libuv, which
 * on Windows refuses some handles another program may pass (under wine the
 * pipes of a Linux parent: EBADF; reportedly a socket: EINVAL) and then throws
 * on the first use of process.stdin or process.stdout. Such a handle is then
 * read and written with plain ReadFile/WriteFile calls, which is what fs.read
 * and an fs write stream do (each read blocks a thread of libuv's pool until
 * data comes); for wine's pipes that works (test/e2e/windows.test.ts).
 */
function openStdio(stdout: () => Writable): { input: Readable; output: Writable } {
  const open = <T>(get: () => T, fsStream: () => T): T => {
    try {
      return get();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EBADF' && code !== 'EINVAL' && code !== 'ENOTSUP') throw err;
      return fsStream();
    }
  };
  return {
    input: open<Readable>(
      () => process.stdin,
      () => fdReadable(0),
    ),
    // Closes fd 1 when the tunnel ends, so the parent sees the end.
    output: open<Writable>(stdout, () => fs.createWriteStream('', { fd: 1 })),
  };
}

/**
 * A stream of fs.read calls on `fd`. Unlike fs.createReadStream, destroying it
 * does not wait for the read in progress, which on a pipe only returns when
 * the parent writes or closes: the tunnel's end must not wait for that.
 */
function fdReadable(fd: number): Readable {
  const size = 64 * 1024;
  return new Readable({
    highWaterMark: size,
    read() {
      fs.read(fd, Buffer.allocUnsafe(size), 0, size, null, (err, bytes, buffer) => {
        if (this.destroyed) return;
        if (err) this.destroy(err);
        else this.push(bytes === 0 ? null : buffer.subarray(0, bytes));
      });
    },
  });
}
