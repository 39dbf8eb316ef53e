/**
 * The local proxy credential of the tray app: whether PuTTY must sign in to
 * the local proxy, and with what. On a machine other people use too (a
 * terminal server), any local account can reach 127.0.0.1:3122 and would
 * otherwise tunnel with this user's endpoint and its credentials.
 *
 * 'auto' (the default) turns it on where the app can tell the machine is
 * shared: a Remote Desktop session. Each Remote Desktop logon is a session of
 * its own on the same machine (Microsoft's "Remote Desktop Sessions", Win32
 * termserv docs: an RD Session Host, formerly a terminal server, has many
 * interactive users at once), and Windows names the session in SESSIONNAME:
 * "Console" at the physical console, "RDP-Tcp#N" over Remote Desktop. A
 * desktop used at its console stays off, so nothing changes there.
 *
 * What 'auto' cannot see is said where it is chosen (issue 24): other
 * accounts signed in by fast user switching, over SSH, or running as
 * services reach 127.0.0.1 as well. Turning it on for everyone would break
 * every client set up without the credential (PuTTY's quick start, SOCKS4),
 * for a threat only a second account on the machine poses; so the Status
 * view and the why line name those cases and ask for On on such a machine.
 */
import { randomBytes } from 'node:crypto';
import type { ProxyCredential } from '../../core/localProxy/socksHandshake';
import type { LocalProxyAuthMode, LocalProxyAuthView } from '../../shared/ipc';

/** Why the machine looks shared, or undefined when nothing says so. */
export function sharedMachineReason(env: Readonly<Record<string, string | undefined>>, platform: NodeJS.Platform): string | undefined {
  if (platform !== 'win32') return undefined;
  const session = env.SESSIONNAME ?? '';
  if (/^RDP-/i.test(session)) return `this is a Remote Desktop session (${session}), so other people may use this computer`;
  return undefined;
}

export interface ProxyAuthDecision {
  on: boolean;
  why: string;
}

/** Whether clients must sign in, from the setting and what the machine looks like. */
export function decideProxyAuth(mode: LocalProxyAuthMode, sharedReason: string | undefined): ProxyAuthDecision {
  if (mode === 'on') return { on: true, why: 'turned on in the settings' };
  if (mode === 'off') return { on: false, why: 'turned off in the settings: any account on this computer can use the proxy' };
  return sharedReason
    ? { on: true, why: `on automatically: ${sharedReason}` }
    : {
        on: false,
        why:
          'off automatically: this is not a Remote Desktop session. Other people signed in to this computer by fast user switching, ' +
          'over SSH or as a service are not seen, and can tunnel through the proxy with your endpoint: choose On if anyone else uses this computer',
      };
}

/**
 * A random credential: 9 bytes of user name and 18 of password, base64url
 * (no `:` to break HTTP Basic, nothing PuTTY's settings would need escaped).
 */
export function generateProxyCredential(): ProxyCredential {
  return { user: `wssh-${randomBytes(6).toString('base64url')}`, password: randomBytes(18).toString('base64url') };
}

/** The part of the settings the credential needs. */
export interface ProxyAuthSettings {
  view(): { localProxyAuth: LocalProxyAuthMode };
  localProxyCredential(): ProxyCredential;
  renewLocalProxyPassword(): ProxyCredential;
}

export interface LocalProxyAuth {
  /** What the Status view shows (no password). */
  view(): LocalProxyAuthView;
  /** The credential clients must send now, or undefined when off. */
  credential(): ProxyCredential | undefined;
  /** A new password for the same user, or undefined when the credential is off (nothing to renew). */
  renew(): ProxyCredential | undefined;
}

/** The setting and the machine together: what the controller, PuTTY export and Status view use. */
export function localProxyAuth(settings: ProxyAuthSettings, sharedReason: string | undefined): LocalProxyAuth {
  const decide = () => decideProxyAuth(settings.view().localProxyAuth, sharedReason);
  return {
    view: () => {
      const mode = settings.view().localProxyAuth;
      const decision = decide();
      return { mode, on: decision.on, why: decision.why, user: decision.on ? settings.localProxyCredential().user : null };
    },
    credential: () => (decide().on ? settings.localProxyCredential() : undefined),
    renew: () => (decide().on ? settings.renewLocalProxyPassword() : undefined),
  };
}
