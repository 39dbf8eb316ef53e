/**
 * Which icon file the tray shows. Five states, each a different shape as well
 * as a colour so they are told apart at 16x16 and without colour vision:
 * stopped = hollow ring, listening = filled disc, active = disc with arrows,
 * reconnecting = circular arrow, error = triangle with "!". Each comes for a
 * light and a dark taskbar (scripts/makeIcons.ts draws them).
 */
import path from 'node:path';
import type { TunnelStatus } from '../../shared/ipc';

/** The taskbar's colour scheme: a dark taskbar needs light strokes. */
export type TaskbarTheme = 'light' | 'dark';

export const TRAY_STATES: readonly TunnelStatus[] = ['stopped', 'listening', 'active', 'reconnecting', 'error'];
export const TRAY_THEMES: readonly TaskbarTheme[] = ['light', 'dark'];

/** `tray-<state>-<theme>.ico` on Windows (all sizes in one file), `.png` elsewhere. */
export function trayIconFileName(status: TunnelStatus, theme: TaskbarTheme, platform: NodeJS.Platform = process.platform): string {
  return `tray-${status}-${theme}.${platform === 'win32' ? 'ico' : 'png'}`;
}

export function trayIconPath(assetsDir: string, status: TunnelStatus, theme: TaskbarTheme, platform: NodeJS.Platform = process.platform): string {
  return path.join(assetsDir, trayIconFileName(status, theme, platform));
}
