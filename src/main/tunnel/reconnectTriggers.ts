/**
 * When the tray app resumes every tunnel at once instead of waiting for
 * missed pings to find the break (issue #20): the computer woke from sleep
 * (Electron's powerMonitor `resume`), or the network came back or changed (a
 * laptop joined another Wi-Fi, a VPN came up or went down).
 *
 * Electron's main process has no event for the network: `net.isOnline()`
 * says only whether it is up now, and the page's `online` event fires only
 * when every adapter was down before. So both are looked at every few
 * seconds: `isOnline` turning true, and the machine's own IPv4 addresses per
 * adapter changing. IPv6 addresses count only by their adapter: Windows
 * rotates its temporary IPv6 addresses daily, which is not a new network.
 *
 * A tunnel whose WebSocket still works loses nothing by a needless resume but
 * a round trip; one whose WebSocket died with the old network is resumed in
 * moments instead of the 6 to 9 s the pings take.
 */
import os from 'node:os';

/** Electron's powerMonitor, as far as it is used here. */
export interface PowerEvents {
  on(event: 'resume', listener: () => void): unknown;
  removeListener(event: 'resume', listener: () => void): unknown;
}

export interface ReconnectTriggerOptions {
  power: PowerEvents;
  /** Electron's `net.isOnline()`: false when every request is sure to fail. Without it, having an address counts as online. */
  isOnline?: () => boolean;
  /** The machine's network adapters, as `os.networkInterfaces()` gives them. @default os.networkInterfaces */
  interfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  /** How often the network is looked at, in ms. @default DEFAULT_NETWORK_POLL_MS */
  pollMs?: number;
  /** Resumes every tunnel now, saying why (TunnelController.reconnectAll). */
  reconnect(reason: string): void;
}

/** The default of `pollMs`: a change is acted on within this, at the cost of one look at the adapters. */
export const DEFAULT_NETWORK_POLL_MS = 3000;
/** What the log and each tunnel's line say for each trigger. */
export const WOKE_UP = 'the computer woke up';
export const NETWORK_CHANGED = 'the network changed';

export class ReconnectTriggers {
  private online: boolean;
  private network: string;
  private readonly timer: NodeJS.Timeout;
  private readonly onResume = () => this.options.reconnect(WOKE_UP);

  constructor(private readonly options: ReconnectTriggerOptions) {
    this.network = this.networkKey();
    this.online = this.isOnline(this.network);
    options.power.on('resume', this.onResume);
    this.timer = setInterval(() => this.check(), options.pollMs ?? DEFAULT_NETWORK_POLL_MS);
    this.timer.unref();
  }

  /** Looks at the network now (the timer's work): resumes the tunnels when it came back or changed. */
  check(): void {
    const network = this.networkKey();
    const online = this.isOnline(network);
    const cameBack = online && !this.online;
    const changed = network !== this.network;
    this.online = online;
    this.network = network;
    // Gone is not a reason: nothing can be resumed without a network, and the tunnels find that out themselves.
    if (online && network !== '' && (cameBack || changed)) this.options.reconnect(NETWORK_CHANGED);
  }

  stop(): void {
    clearInterval(this.timer);
    this.options.power.removeListener('resume', this.onResume);
  }

  private isOnline(network: string): boolean {
    return this.options.isOnline ? this.options.isOnline() : network !== '';
  }

  /** The adapters that are up and not loopback, each with its IPv4 addresses: `eth0 10.0.0.5|wlan0 192.168.1.7`. */
  private networkKey(): string {
    const interfaces = (this.options.interfaces ?? os.networkInterfaces)();
    const adapters: string[] = [];
    for (const [name, addresses] of Object.entries(interfaces)) {
      const external = (addresses ?? []).filter((a) => !a.internal);
      if (external.length === 0) continue;
      const ipv4 = external
        .filter((a) => a.family === 'IPv4')
        .map((a) => a.address)
        .sort();
      adapters.push([name, ...ipv4].join(' '));
    }
    return adapters.sort().join('|');
  }
}
