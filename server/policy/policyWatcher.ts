/**
 * Keeps the hosts.yml policy current while the server runs, so an admin's
 * edit applies to the next tunnel without a restart. How the file is watched,
 * and why a broken edit never takes effect, is in watchedFile.ts.
 */
import { HostsPolicy, loadPolicyFile, PolicyError } from './hostsPolicy';
import { WatchedFile, type WatchedFileOptions } from '../configFiles/watchedFile';

export type PolicyWatcherOptions = WatchedFileOptions;

/** The policy file `wssh server` reads when --hosts is not given: in the working directory. */
export const DEFAULT_HOSTS_FILE = './hosts.yml';

/**
 * Loads a policy file and reloads it when it changes: emits 'reload' with the
 * new policy, or 'error' with a {@link PolicyError} (the last good policy stays).
 *
 * Listen for 'error': without a listener a bad edit is reported as a
 * process warning instead of throwing, since a typo in hosts.yml must not
 * bring the server down.
 */
export class PolicyWatcher extends WatchedFile<HostsPolicy, PolicyError> {
  /**
   * @param path the hosts.yml to load and watch.
   * @throws {PolicyError} if the first load fails, so the server can refuse
   *   to start with a message that names the file, line and column.
   */
  constructor(path: string, options: PolicyWatcherOptions = {}) {
    super(
      path,
      {
        load: loadPolicyFile,
        asError: (e, file) => (e instanceof PolicyError ? e : new PolicyError(String(e), file)),
        warningType: 'PolicyWarning',
        noun: 'policy',
      },
      options,
    );
  }

  /** The policy in force: the last one that loaded without error. */
  get policy(): HostsPolicy {
    return this.value;
  }
}
