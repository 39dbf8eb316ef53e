/** Every fuzz target, in the order `npm run fuzz` and the tests run them. */
import type { FuzzTarget } from '../target';
import { endpointTarget } from './endpoint';
import { localProxyTarget } from './localProxy';
import { pacTarget } from './pac';
import { profileTarget } from './profile';
import { proxyAuthTarget } from './proxyAuth';
import { regQueryTarget } from './regQuery';
import { resumeTarget } from './resume';
import { serverFilesTarget } from './serverFiles';
import { settingsFileTarget } from './settingsFile';
import { socksTarget } from './socks';
import { upgradeAnswerTarget } from './upgradeAnswer';
import { upstreamAnswerTarget } from './upstreamAnswer';

export const TARGETS = [
  endpointTarget,
  resumeTarget,
  socksTarget,
  proxyAuthTarget,
  regQueryTarget,
  profileTarget,
  serverFilesTarget,
  settingsFileTarget,
  localProxyTarget,
  upstreamAnswerTarget,
  upgradeAnswerTarget,
  pacTarget,
] as unknown as FuzzTarget[];
