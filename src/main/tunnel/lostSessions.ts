/**
 * The one notification of issue #20: an SSH session lost, because its tunnel
 * could not be resumed (the break outlasted the server's resume window, the
 * server no longer knew the session, or refused the target now). A break that
 * resumed is never notified: the user's session went on.
 *
 * Sessions lost together (the network was down for longer than the window:
 * every tunnel's window ends within moments of the others) make one
 * notification, not one each.
 */
import type { ClosedTunnel } from '../../core/tunnel/tunnels';

/** How long a loss waits for others to join its notification, in ms. */
export const DEFAULT_LOST_NOTICE_MS = 1000;
/** The targets named in one notification; more are counted. */
const MAX_TARGETS_NAMED = 3;

export class LostSessions {
  private batch: ClosedTunnel[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Shows the notification (the controller's `problem` event). */
    private readonly notify: (title: string, text: string) => void,
    private readonly delayMs = DEFAULT_LOST_NOTICE_MS,
  ) {}

  /** A tunnel closed: a lost one is notified, with those lost in the next `delayMs`; others are ignored. */
  closed(tunnel: ClosedTunnel): void {
    if (!tunnel.lost) return;
    this.batch.push(tunnel);
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.delayMs);
    this.timer.unref();
  }

  /** Notifies what is pending now (the proxy stopped, or the wait is over). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const lost = this.batch;
    this.batch = [];
    if (lost.length === 0) return;
    const [title, text] = lostNotice(lost);
    this.notify(title, text);
  }
}

/** The notification's title and text for sessions lost together. */
export function lostNotice(lost: readonly ClosedTunnel[]): [title: string, text: string] {
  if (lost.length === 1) {
    const [t] = lost;
    return ['SSH session lost', `The session to ${t.target} ended while its tunnel was broken: ${t.reason}. Connect to it again.`];
  }
  const targets = [...new Set(lost.map((t) => t.target))];
  const named = targets.slice(0, MAX_TARGETS_NAMED).join(', ');
  const more = targets.length > MAX_TARGETS_NAMED ? ` and ${targets.length - MAX_TARGETS_NAMED} more` : '';
  return [
    `${lost.length} SSH sessions lost`,
    `The sessions to ${named}${more} ended while their tunnels were broken: ${lost[0].reason}. Connect to them again.`,
  ];
}
