// Every default in one place: the CLI's parser applies the named constants,
// and its --help shows exactly what the parser applies, so that changing a
// constant changes both (no number is written twice).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, parseCommand, type CommandName } from '../../src/cli/commands';
import { serverSettings } from '../../src/cli/serverCommand';
import { secondsOption } from '../../src/cli/options';
import { parseListen } from '../../src/cli/listenAddress';
import { DEFAULT_KEEPALIVE_MS } from '../../src/core/tunnel/keepalive';
import { DEFAULT_PROXY_HOST, DEFAULT_PROXY_PORT } from '../../src/core/localProxy/connectProxy';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_RESUME_TIMEOUT_MS,
  DEFAULT_SERVER_DRAIN_MS,
  DEFAULT_SERVER_HOST,
  DEFAULT_SERVER_PORT,
} from '../../server/wsshServer';
import { DEFAULT_LIMITS } from '../../server/limits';
import { DEFAULT_HOSTS_FILE } from '../../server/policy/policyWatcher';
import { DEFAULT_TRUST_PROXY } from '../../server/clientAddress';
import { DEFAULT_STATS_INTERVAL_MS } from '../../server/metrics';
import { DEFAULT_MAX_BUFFERED } from '../../src/core/tunnel/bufferBudget';
import { DEFAULT_HIGH_WATER_MARK } from '../../src/core/tunnel/relay';
import { DEFAULT_KEEPALIVE_SEC, LOCAL_ENDPOINT_URI, MAX_KEEPALIVE_SEC } from '../../src/shared/defaults';
import { SETTINGS_SCHEMA, defaultSettings } from '../../src/main/settings/settingsSchema';
import { migrateSettings } from '../../src/main/settings/settingsMigrations';

test('wssh server: the parsed defaults are the constants', () => {
  assert.deepEqual(serverSettings(parseCommand('server', []).values), {
    listen: { host: DEFAULT_SERVER_HOST, port: DEFAULT_SERVER_PORT },
    hosts: DEFAULT_HOSTS_FILE,
    users: undefined,
    waitForConfig: false,
    trustProxy: DEFAULT_TRUST_PROXY,
    allowOrigins: [],
    keepaliveMs: DEFAULT_KEEPALIVE_MS,
    connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
    drainMs: DEFAULT_SERVER_DRAIN_MS,
    resumeTimeoutMs: DEFAULT_RESUME_TIMEOUT_MS,
    ...DEFAULT_LIMITS,
    statsIntervalMs: DEFAULT_STATS_INTERVAL_MS,
    maxBufferedBytes: DEFAULT_MAX_BUFFERED,
    highWaterMark: DEFAULT_HIGH_WATER_MARK,
  });
});

test('wssh connect and client: the parsed defaults are the constants', () => {
  const connect = parseCommand('connect', ['ws://gw/ssh']).values;
  assert.deepEqual(parseListen(String(connect.listen), DEFAULT_PROXY_HOST), { host: DEFAULT_PROXY_HOST, port: DEFAULT_PROXY_PORT });
  assert.equal(secondsOption(connect, 'keepalive'), DEFAULT_KEEPALIVE_MS);
  const client = parseCommand('client', ['ws://gw/ssh/h']).values;
  assert.equal(secondsOption(client, 'keepalive'), DEFAULT_KEEPALIVE_MS);
});

/** An option's lines in a --help: from `  --name` to the next option. */
function helpOf(usage: string, name: string): string {
  const match = new RegExp(`^ {2}--${name}\\b[^]*?(?=^ {2}-|^\\S|(?![^]))`, 'm').exec(usage);
  assert.ok(match, `--${name} is in the help`);
  return match[0].replace(/\s+/g, ' ');
}

test("every --help shows each option's default as the parser applies it", () => {
  for (const name of Object.keys(COMMANDS) as CommandName[]) {
    const { usage, options } = COMMANDS[name];
    for (const [option, spec] of Object.entries(options) as Array<[string, { type: string; default?: unknown }]>) {
      if (spec.type !== 'string' || spec.default === undefined) continue;
      assert.ok(helpOf(usage, option).includes(`default ${spec.default}`), `wssh ${name} --${option}: ${helpOf(usage, option)}`);
    }
  }
});

test('the help texts show the constants', () => {
  const server = COMMANDS.server.usage;
  assert.match(helpOf(server, 'listen'), new RegExp(`\\(default ${DEFAULT_SERVER_HOST}:${DEFAULT_SERVER_PORT}\\)`));
  assert.match(helpOf(server, 'keepalive'), new RegExp(`\\(default ${DEFAULT_KEEPALIVE_MS / 1000}\\)`));
  assert.match(helpOf(server, 'connect-timeout'), new RegExp(`\\(default ${DEFAULT_CONNECT_TIMEOUT_MS / 1000}\\)`));
  assert.match(helpOf(server, 'drain'), new RegExp(`\\(default ${DEFAULT_SERVER_DRAIN_MS / 1000}\\)`));
  assert.match(helpOf(server, 'hosts'), new RegExp(`\\(default ${DEFAULT_HOSTS_FILE.replace(/\./g, '\\.')}\\)`));
  assert.match(helpOf(server, 'trust-proxy'), new RegExp(`\\(default ${DEFAULT_TRUST_PROXY}\\)`));
  assert.match(helpOf(server, 'max-tunnels'), new RegExp(`\\(default ${DEFAULT_LIMITS.maxTunnels}\\)`));
  assert.match(helpOf(server, 'handshake-timeout'), new RegExp(`\\(default ${DEFAULT_LIMITS.handshakeTimeoutMs / 1000}\\)`));
  assert.ok(server.startsWith(`Usage: wssh server [--listen ${DEFAULT_SERVER_HOST}:${DEFAULT_SERVER_PORT}]`));
  const connect = COMMANDS.connect.usage;
  assert.match(helpOf(connect, 'listen'), new RegExp(`\\(default ${DEFAULT_PROXY_HOST}:${DEFAULT_PROXY_PORT}\\)`));
  assert.match(helpOf(connect, 'keepalive'), new RegExp(`\\(default ${DEFAULT_KEEPALIVE_MS / 1000}\\)`));
  assert.match(connect, new RegExp(`host ${DEFAULT_PROXY_HOST}, port ${DEFAULT_PROXY_PORT}\\.`));
  assert.match(helpOf(COMMANDS.client.usage, 'keepalive'), new RegExp(`\\(default ${DEFAULT_KEEPALIVE_MS / 1000}\\)`));
});

test("the tray app's settings take the same defaults", () => {
  const first = defaultSettings();
  assert.deepEqual(first.listen, { host: DEFAULT_PROXY_HOST, port: DEFAULT_PROXY_PORT });
  assert.equal(first.endpoints[0].uri, LOCAL_ENDPOINT_URI);
  assert.equal(LOCAL_ENDPOINT_URI, `ws://localhost:${DEFAULT_SERVER_PORT}/ssh`);
  assert.equal(first.endpoints[0].keepaliveSec, DEFAULT_KEEPALIVE_SEC);
  assert.equal(DEFAULT_KEEPALIVE_SEC * 1000, DEFAULT_KEEPALIVE_MS);
  assert.equal(SETTINGS_SCHEMA.endpoints.items.properties.keepaliveSec.maximum, MAX_KEEPALIVE_SEC);
  const migrated = migrateSettings({ endpoints: [{ name: 'old', url: 'ws://gw/ssh' }] }, { sealSecret: () => undefined }).settings as {
    endpoints: Array<{ keepaliveSec: number }>;
    listen: { host: string; port: number };
  };
  assert.equal(migrated.endpoints[0].keepaliveSec, DEFAULT_KEEPALIVE_SEC);
  assert.deepEqual(migrated.listen, { host: DEFAULT_PROXY_HOST, port: DEFAULT_PROXY_PORT });
});
