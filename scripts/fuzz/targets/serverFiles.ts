/**
 * The server's two YAML files: hosts.yml (server/policy/hostsPolicy.ts),
 * then a decision for a few targets on what it loaded, and users.yml
 * (server/auth/credentials.ts), whose lines as `--hash-secret` writes them
 * read back and verify.
 */
import * as fc from 'fast-check';
import { HostsPolicy, PolicyError } from '../../../server/policy/hostsPolicy';
import { Credentials, CredentialsError, formatUserLine, hashSecret } from '../../../server/auth/credentials';
import { formatTarget, parseTarget } from '../../../src/shared/target';
import { hostArb, mutatedText } from '../mutate';
import { holds, onlyErrors, onlyErrorsAsync, type FuzzTarget } from '../target';

const key = fc.oneof(
  hostArb,
  fc.tuple(hostArb, fc.integer({ min: 1, max: 65535 })).map(([h, p]) => (h.includes(':') ? `"[${h}]:${p}"` : `${h}:${p}`)),
  fc.constantFrom('/\\.lan$/', '/^(\\w+)\\.corp$/i', '//', '/^db\\d+(:\\d+)?$/', '/[/', '/x/g', '/(a+)+$/', '/^(?<n>\\w+)$/'),
  fc
    .tuple(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('::ffff:127.0.0.1', '::ffff:10.0.0.0')), fc.integer({ min: 0, max: 140 }))
    .map(([a, n]) => `${a}/${n}`),
);
const ruleValue = fc.oneof(
  fc.constantFrom(
    'true',
    'false',
    'null',
    '',
    'yes',
    'localhost',
    '"[::1]:2200"',
    '$1.internal',
    '$2',
    '"$1:2222"',
    '1234',
    '[a, b]',
    '{a: 1}',
    '*anchor',
    '&anchor x',
  ),
  hostArb,
);
const hostsYml = fc
  .array(fc.tuple(key, ruleValue), { maxLength: 8 })
  .map((rules) => ['# hosts.yml', ...rules.map(([k, v]) => `${k.startsWith('[') ? JSON.stringify(k) : k}: ${v}`)].join('\n') + '\n');

const user = fc.oneof(
  fc.constantFrom('alice', 'bob@corp', 'null', 'yes', '1234', ' spaced ', 'é', '#hash', '- dash', '"q"'),
  fc.string({ minLength: 1, maxLength: 12 }),
);
const hash = fc.oneof(
  fc.constantFrom('scrypt$2$1$1$AAAAAAAAAAA$AAAAAAAAAAA', 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U'),
  fc
    .tuple(fc.integer({ min: 0, max: 2 ** 21 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 20 }))
    .map(([n, r, p]) => `scrypt$${n}$${r}$${p}$c2FsdHNhbHQ$a2V5a2V5a2V5`),
);
const usersYml = fc.array(fc.tuple(user, hash), { maxLength: 5 }).map((lines) => lines.map(([u, h]) => `${u}: ${h}`).join('\n') + '\n');
const YAML_TOKENS = [': ', '\n', '  ', '- ', '"', "'", '#', '&a ', '*a', '---\n', '? ', '{', '[', '!!str ', '|\n', '\t', '%YAML 1.2\n'];

interface FilesInput {
  hosts: string;
  targets: string[];
  users: string;
  pair: { user: string; secret: string };
}

export const serverFilesTarget: FuzzTarget<FilesInput> = {
  name: 'server-files',
  about: 'hosts.yml (HostsPolicy.parse, then decide) and users.yml (Credentials.parse; a --hash-secret line verifies)',
  arbitrary: fc.record({
    hosts: mutatedText(hostsYml, YAML_TOKENS),
    targets: fc.array(fc.oneof(hostArb, fc.constantFrom('db1.lan', 'x.corp', 'db7:2222', '127.0.0.1', 'a'.repeat(60) + '.lan')), {
      minLength: 1,
      maxLength: 3,
    }),
    users: mutatedText(usersYml, YAML_TOKENS),
    pair: fc.record({ user: user.filter((u) => !u.includes(':') && !/\p{Cc}/u.test(u)), secret: fc.string({ maxLength: 16 }) }),
  }),
  testRuns: 400,
  caseMs: 2000,
  async check({ hosts, targets, users, pair }) {
    const policy = onlyErrors('HostsPolicy.parse', [PolicyError], () => HostsPolicy.parse(hosts));
    // A rule with a nested quantifier loads with a warning: the admin is told that a crafted name can
    // make it take exponential time, so its decisions are not timed here (they could run for hours).
    if (policy && policy.warnings.length === 0) {
      for (const t of targets) {
        let target;
        try {
          target = parseTarget(t);
        } catch {
          continue;
        }
        const started = performance.now();
        const decision = onlyErrors('HostsPolicy.decide', [], () => policy.decide(target))!;
        const took = performance.now() - started;
        holds(took < 500, () => `decide(${t}) took ${Math.round(took)} ms with no warning at load`);
        if (decision.allow) onlyErrors(`the target decide(${t}) gave`, [], () => parseTarget(formatTarget(decision.target)));
      }
    }
    onlyErrors('Credentials.parse', [CredentialsError], () => Credentials.parse(users));
    // A line as `wssh server --hash-secret` writes it (cheap parameters here) reads back and verifies.
    const line = formatUserLine(pair.user, await hashSecret(pair.secret, { N: 2, r: 1, p: 1 }));
    const credentials = onlyErrors('Credentials.parse of a --hash-secret line', [], () => Credentials.parse(line))!;
    const verdict = await onlyErrorsAsync('verify', [], () => credentials.verify(pair.user, pair.secret));
    holds(verdict === 'ok', () => `the line ${JSON.stringify(line)} verified as ${verdict}`);
  },
};
