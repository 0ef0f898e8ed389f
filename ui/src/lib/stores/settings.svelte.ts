// App settings as the Settings dialog edits them: loaded once, saved whole
// (Rust validates and says which field is wrong), and the remote-content
// allowlist edited through the same save.
import type { Backend } from '../backend/backend';
import type { ApiError } from '../../bindings/ApiError';
import type { Settings } from '../../bindings/Settings';
import { toApiError } from '../backend/errors';

export class SettingsStore {
  settings = $state<Settings | null>(null);
  error = $state<ApiError | null>(null);
  saving = $state(false);

  constructor(private readonly backend: Backend) {}

  get categoriesEnabled(): boolean {
    return this.settings?.categoriesEnabled ?? true;
  }

  async load(): Promise<void> {
    try {
      this.settings = await this.backend.getSettings();
      this.error = null;
    } catch (err) {
      this.error = toApiError(err);
    }
  }

  /** Saves; resolves to the backend's complaint (e.g. invalidSetting), or null when saved. */
  async save(next: Settings): Promise<ApiError | null> {
    this.saving = true;
    try {
      this.settings = await this.backend.updateSettings($state.snapshot(next) as Settings);
      this.error = null;
      return null;
    } catch (err) {
      return toApiError(err);
    } finally {
      this.saving = false;
    }
  }

  async removeSender(address: string): Promise<ApiError | null> {
    if (!this.settings) return null;
    const next = $state.snapshot(this.settings) as Settings;
    next.remoteContentSenders = next.remoteContentSenders.filter((s) => s !== address);
    return this.save(next);
  }
}
