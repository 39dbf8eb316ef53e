// Core's configuration errors in the CLI's words (src/cli/configRemedies.ts):
// every hint, for every field, names a flag and none of the tray app's
// fields (the lists of both are checked against the types by the compiler).
// How the built `wssh` prints them as users meet them:
// test/cli/configErrors.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigHint } from '../../src/core/tunnel/configErrors';
import { describeConfigError, flagOf } from '../../src/cli/configRemedies';
import { ALL_FIELDS, ALL_HINTS } from '../fixtures/configProblems';

/** The tray app's words for its settings: never in what the CLI prints. */
const APP_WORDS = /the app|Advanced|"CA file"|Use Windows certificate store|PKCS#12 passphrase|Custom URL|Pinned fingerprints/;

test("every hint, in the CLI's words: a flag, and none of the app's fields", () => {
  for (const field of ALL_FIELDS) {
    for (const hint of ALL_HINTS) {
      const said = describeConfigError({ field, hint, message: 'what is wrong', detail: 'what is wrong' });
      assert.match(said, /--[a-z]/, `${field}/${hint}: ${said}`);
      assert.doesNotMatch(said, APP_WORDS, `${field}/${hint}: ${said}`);
    }
    assert.match(flagOf(field), /^--[a-z]/);
  }
  const remedy = (hint: ConfigHint) => describeConfigError({ field: 'systemCa', hint, message: 'x', detail: 'x' });
  assert.match(remedy('add-ca'), /give the CA with --ca FILE$/);
  assert.match(remedy('add-ca-or-newer-node'), /--ca FILE .*--use-openssl-ca/);
});
