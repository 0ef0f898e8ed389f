// Folders and labels of every account for the sidebar, refetched (debounced)
// when the backend says data changed so unread counts stay current.
import type { Backend } from '../backend/backend';
import type { Folder } from '../../bindings/Folder';
import { debounce } from '../debounce';
import { subscribe } from './subscribe';

export class FolderStore {
  folders = $state.raw<Folder[]>([]);
  private readonly refreshSoon;

  constructor(
    private readonly backend: Backend,
    refreshDebounceMs: number,
  ) {
    this.refreshSoon = debounce(() => void this.refresh(), refreshDebounceMs);
  }

  start(): () => void {
    const stop = subscribe(
      this.backend,
      (e) => {
        if (e.type === 'dataChanged' || e.type === 'newMail') this.refreshSoon();
      },
      () => {},
    );
    void this.refresh();
    return () => {
      stop();
      this.refreshSoon.cancel();
    };
  }

  forAccount(accountId: number): Folder[] {
    return this.folders.filter((f) => f.accountId === accountId);
  }

  async refresh(): Promise<void> {
    try {
      this.folders = await this.backend.listFolders(null);
    } catch {
      // The sidebar still works without folders; the list shows its own errors.
    }
  }
}
