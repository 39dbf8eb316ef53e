/**
 * The demo's proof that its path works: `CONNECT host:port` through the
 * demo's own local proxy, and the SSH server's identification line
 * (`SSH-2.0-…`, RFC 4253 §4.2) that comes back. Nothing is sent after the
 * CONNECT: in SSH the server speaks first.
 */
import net from 'node:net';
import type { Target } from '../src/shared/target';

export type BannerResult = { ok: true; banner: string } | { ok: false; reason: string };

/** RFC 4253 allows lines before the identification line; this bounds what is read. */
const MAX_READ = 8192;

/** Opens a tunnel to `target` through the proxy at `proxy` and reads the SSH banner. */
export function readBannerThrough(proxy: { host: string; port: number }, target: Target, timeoutMs = 10_000): Promise<BannerResult> {
  const authority = authorityOf(target);
  return new Promise((resolve) => {
    const socket = net.connect({ host: proxy.host, port: proxy.port });
    let received = Buffer.alloc(0);
    let tunnelOpen = false;
    const finish = (result: BannerResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: `no answer within ${timeoutMs / 1000} s` }), timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, reason: `the demo's proxy: ${err.code ?? err.message}` }));
    socket.on('connect', () => socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length > MAX_READ) return finish({ ok: false, reason: `${authority} answers, but not with an SSH banner` });
      if (!tunnelOpen) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        // A refusal: its one-line reason follows, then the proxy closes (see 'end').
        if (!/^HTTP\/1\.[01] 200 /.test(received.toString('latin1', 0, end + 2))) return;
        tunnelOpen = true;
        received = received.subarray(end + 4);
      }
      const lines = received.toString('latin1').split('\n');
      const banner = lines.slice(0, -1).find((line) => line.startsWith('SSH-'));
      if (banner !== undefined) finish({ ok: true, banner: banner.replace(/\r$/, '') });
    });
    socket.on('end', () => {
      if (!tunnelOpen && received.length > 0) {
        // e.g. "502 connection refused by localhost:22"
        const text = received.toString('utf8');
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? '';
        const body = text
          .slice(text.indexOf('\r\n\r\n') + 4)
          .trim()
          .split('\n', 1)[0];
        finish({ ok: false, reason: `${status} ${body}`.trim() });
      } else {
        finish({ ok: false, reason: tunnelOpen ? `${authority} closed the connection without an SSH banner` : 'the proxy closed the connection' });
      }
    });
  });
}

/** What the demo prints about the check: the banner, or what to do when no SSH server answers. */
export function describeBanner(result: BannerResult, target: Target): string {
  const where = authorityOf(target);
  if (result.ok) return `Checked: ${where} answers through the demo's own proxy and server: ${result.banner}\n`;
  return (
    `Checked: no SSH server answers on ${where} through the demo's proxy (${result.reason}).\n` +
    'Start one to try the tunnel: sudo systemctl start ssh\n' +
    '(not installed? sudo apt install openssh-server)\n'
  );
}

/** `host:port` as CONNECT takes it, the port always given. */
function authorityOf(target: Target): string {
  return net.isIPv6(target.host) ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}
