// Core's configuration errors in the tray app's words (src/main/settings/configRemedies.ts):
// every hint, for every field, sends the user to a field of the endpoint
// editor by the label the editor shows, and names no flag of the CLI. How
// the app says them as users meet them: test/main/configErrors.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixPlace, remedyOf, withRemedy } from '../../src/main/settings/configRemedies';
import { EDITOR_LABELS } from '../../src/shared/editorLabels';
import { whereToFix } from '../../src/main/tunnel/tunnelController';
import { ALL_FIELDS, ALL_HINTS } from '../fixtures/configProblems';

/** The CLI's words: flags and the variables it reads. */
const CLI_WORDS = /--[a-z]|WSSH_PFX_PASSPHRASE|NODE_EXTRA_CA_CERTS|wssh:/;
const LABELS: readonly string[] = Object.values(EDITOR_LABELS);

test("every hint, in the app's words: a place the editor has, and no flag", () => {
  for (const field of ALL_FIELDS) {
    for (const hint of ALL_HINTS) {
      const remedy = remedyOf({ field, hint });
      const what = `${field}/${hint}: ${JSON.stringify(remedy)}`;
      assert.ok(LABELS.includes(remedy.place), what);
      if (remedy.says !== undefined) {
        assert.doesNotMatch(remedy.says, CLI_WORDS, what);
        // Any field it names is named as the editor labels it.
        for (const quoted of remedy.says.matchAll(/"([^"]+)"/g)) assert.ok(LABELS.includes(quoted[1]), `${what}: "${quoted[1]}"`);
      }
    }
  }
  assert.equal(
    withRemedy("the operating system's certificate store is empty", { field: 'systemCa', hint: 'add-ca' }),
    'the operating system\'s certificate store is empty: give the CA certificate as "CA file" (or untick "Use Windows certificate store")',
  );
  assert.equal(withRemedy('pin "x": expected …', { field: 'pin', hint: 'fix-value' }), 'pin "x": expected …', 'the message says what is expected');
  assert.equal(fixPlace({ field: 'systemCa', hint: 'add-ca' }, 'Corp'), 'Endpoints ▸ Corp ▸ Advanced ▸ CA file');
  assert.equal(fixPlace({ field: 'pin', hint: 'fix-value' }, undefined), 'Endpoints ▸ the endpoint ▸ Advanced ▸ Pinned fingerprints');
});

test('where to fix a refusal a setting caused: the setting it carries decides, not its words', () => {
  const certificate = { field: 'clientCertificate', hint: 'present-accepted-certificate' } as const;
  assert.equal(whereToFix('TLS: wss://gw refused it', 'Corp', certificate), 'Endpoints ▸ Corp ▸ Advanced ▸ Client certificate');
  // A proxy-config refusal whose words would say "Proxy sign-in" to the text rules.
  const proxy = { field: 'proxy', hint: 'choose-proxy' } as const;
  assert.equal(whereToFix('the HTTP proxy at x requires authentication', 'Corp', proxy), 'Endpoints ▸ Corp ▸ Advanced ▸ Proxy');
});
