/**
 * `wssh server` with a resume window of the bench's choosing, as a process
 * of its own: the window is the server's (it offers it, the client takes
 * it), and no command-line option sets it, so the bench's window sizing
 * (resumeWindow.ts) starts this instead of the CLI. The same server class
 * and heap headroom as `wssh server`, the same listening line.
 *
 *   node windowServer.js HOSTS_FILE WINDOW_BYTES|off
 *
 * `off` offers no resume (resumeTimeoutMs 0): the baseline row.
 */
import fs from 'node:fs';
import { WsshServer } from '../../server/wsshServer';
import { HostsPolicy } from '../../server/policy/hostsPolicy';
import { keepHeapHeadroom } from '../../src/core/inbound/heapHeadroom';
import { logLine } from '../../src/cli/logLine';
import { DEFAULT_KEEPALIVE_SEC } from '../../src/shared/defaults';

async function main(): Promise<void> {
  const [hostsFile, windowText] = process.argv.slice(2);
  const window = windowText === 'off' ? undefined : Number(windowText);
  if (!hostsFile || (window !== undefined && !(window > 0))) {
    process.stderr.write('usage: node windowServer.js HOSTS_FILE WINDOW_BYTES|off\n');
    process.exit(2);
  }
  keepHeapHeadroom();
  const policy = HostsPolicy.parse(fs.readFileSync(hostsFile, 'utf8'), hostsFile);
  const server = new WsshServer({
    policy: () => policy,
    keepaliveMs: DEFAULT_KEEPALIVE_SEC * 1000,
    resumeTimeoutMs: window === undefined ? 0 : undefined,
    resumeWindow: window,
    log: logLine,
  });
  server.on('error', (err) => logLine(`server: ${err.message}`));
  const { port } = await server.listen(0, '127.0.0.1');
  logLine(`wssh server (resume window ${windowText}) listening on ws://127.0.0.1:${port}/`);
  process.once('SIGTERM', () => void server.close(0).then(() => process.exit(0)));
}

main().catch((err: Error) => {
  process.stderr.write(`windowServer: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
