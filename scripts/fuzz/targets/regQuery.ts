/**
 * `reg query` output (src/core/windowsRegistry.ts) and what is read from it:
 * the Internet Settings' proxy (windowsProxySettings.ts) and the data
 * `reg add` is given back (regAddData, for the saved sessions).
 */
import * as fc from 'fast-check';
import { RegistryError, keyValues, parseRegQuery, regAddData, valueNamed } from '../../../src/core/windowsRegistry';
import { INTERNET_SETTINGS_KEY, bypassesProxy, internetSettingsFrom, manualProxyRoutes } from '../../../src/core/upstream/windowsProxySettings';
import { ProxyConfigError } from '../../../src/core/upstream/upstreamProxy';
import { parseEndpoint } from '../../../src/shared/endpoint';
import { mutatedText } from '../mutate';
import { holds, onlyErrors, same, type FuzzTarget } from '../target';

const KEY = 'HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings';
const TYPES = ['REG_SZ', 'REG_DWORD', 'REG_QWORD', 'REG_EXPAND_SZ', 'REG_BINARY', 'REG_MULTI_SZ'];

/** A value name as the registry may hold it: anything but a line break or a run of four spaces. */
const valueName = fc.oneof(
  fc.constantFrom('ProxyEnable', 'ProxyServer', 'ProxyOverride', 'AutoConfigURL', 'proxyenable', 'User Agent', '(Default)'),
  fc.string({ maxLength: 16 }).filter((s) => s !== '' && !/[\r\n]| {4}/.test(s) && s !== '(Default)'),
);
const proxyServer = fc.oneof(
  fc.constantFrom('proxy:3128', 'http=a:3128;https=b:3128', 'socks=c:1080', 'https=[::1]:8080', 'http://p:80', ':', '=', ';;'),
  fc.tuple(fc.domain(), fc.integer({ min: 0, max: 70000 })).map(([h, p]) => `${h}:${p}`),
);
/** ProxyOverride entries: hosts with `*` wildcards, as many as a group policy may write. */
const override = fc
  .array(
    fc.oneof(
      fc.constantFrom('<local>', '*.corp', '10.*', '*', '[::1]:443', 'https://gw'),
      fc.array(fc.constantFrom('*', 'a', '*a', 'b', '.'), { minLength: 1, maxLength: 16 }).map((parts) => parts.join('')),
    ),
    { maxLength: 6 },
  )
  .map((entries) => entries.join(';'));
const value = fc.record({
  name: valueName,
  type: fc.constantFrom(...TYPES),
  data: fc.oneof(
    proxyServer,
    override,
    fc.constantFrom('0x1', '0x0', '0xffffffff', '1', ''),
    fc.string({ maxLength: 20 }).filter((s) => !/[\r\n]/.test(s)),
  ),
});
const values = fc.uniqueArray(value, { selector: (v) => v.name.toLowerCase(), maxLength: 8 });

function output(key: string, list: Array<{ name: string; type: string; data: string }>): string {
  const lines = list.map((v) => `    ${v.name}    ${v.type}${v.data === '' ? '' : `    ${v.data}`}`);
  return ['', key, ...lines, '', `${key}\\Connections`, ''].join('\r\n');
}

interface RegInput {
  text: string;
  /** A ProxyOverride and a host for bypassesProxy alone. */
  override: string;
  host: string;
  values: Array<{ name: string; type: string; data: string }>;
  endpoint: string;
}

export const regQueryTarget: FuzzTarget<RegInput> = {
  name: 'reg-query',
  about: '`reg query` output (parseRegQuery, keyValues, regAddData) and the Windows proxy settings in it (manualProxyRoutes, bypassesProxy)',
  arbitrary: fc.record({
    text: mutatedText(
      values.map((v) => output(KEY, v)),
      ['    ', 'REG_', 'REG_SZ', '\r\n', '\n', 'HKEY_', '*', ';', '=', '<local>', '0x'],
    ),
    values,
    endpoint: fc.constantFrom('wss://gw.corp/ssh', 'ws://10.1.2.3:8080/ssh', 'wss://[::1]/ssh', 'wss://host/ssh'),
    override,
    host: fc.oneof(
      fc.constant('gw.corp'),
      fc.stringMatching(/^[ab.]{1,120}$/),
      fc.integer({ min: 1, max: 120 }).map((n) => 'a'.repeat(n)),
    ),
  }),
  testRuns: 2000,
  caseMs: 1000,
  check({ text, values, endpoint, override, host }) {
    onlyErrors('parseRegQuery', [], () => parseRegQuery(text));
    const read = onlyErrors('keyValues', [], () => keyValues(text, INTERNET_SETTINGS_KEY))!;
    for (const v of read.values()) onlyErrors('regAddData', [RegistryError], () => regAddData(v));
    const settings = onlyErrors('internetSettingsFrom', [], () => internetSettingsFrom(read))!;
    const ep = parseEndpoint(endpoint);
    onlyErrors('manualProxyRoutes', [ProxyConfigError], () => manualProxyRoutes({ ...settings, proxyEnable: true }, ep));
    onlyErrors('bypassesProxy', [], () => bypassesProxy(settings.proxyOverride, 'gw.corp', 443));
    onlyErrors('bypassesProxy', [], () => bypassesProxy(override, host, 443));
    // What reg prints, read back: every value by its name, type and data byte for byte.
    const back = keyValues(output(KEY, values), INTERNET_SETTINGS_KEY);
    for (const v of values) {
      const got = valueNamed(back, v.name === '(Default)' ? '' : v.name);
      holds(same(got, { type: v.type, data: v.data }), () => `value ${JSON.stringify(v)} read back as ${JSON.stringify(got)}`);
    }
  },
};
