// The app's tray menu as the desktop sees it. On Linux the tray (libayatana-
// appindicator) publishes its menu on the session bus with the dbusmenu
// protocol; a panel reads it with GetLayout and clicks with Event. This module
// does the same through `gdbus` (Debian: libglib2.0-bin), so the end-to-end
// run can check the real tray under Xvfb, where no panel exists to show it.
import { execFileSync } from 'node:child_process';

const MENU_PATH = '/org/ayatana/NotificationItem/tray_icon_tray_app_main/Menu';

/** @param {string[]} args */
function gdbus(args) {
  return execFileSync('gdbus', ['call', '--session', ...args], {
    encoding: 'utf8',
    timeout: 5_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Unique bus names, e.g. ":1.2". */
function uniqueNames() {
  const out = gdbus([
    '--dest',
    'org.freedesktop.DBus',
    '--object-path',
    '/org/freedesktop/DBus',
    '--method',
    'org.freedesktop.DBus.ListNames',
  ]);
  return [...out.matchAll(/'(:[0-9.]+)'/g)].map((m) => m[1]);
}

/** @param {string} name */
function layout(name) {
  return gdbus([
    '--dest',
    name,
    '--object-path',
    MENU_PATH,
    '--method',
    'com.canonical.dbusmenu.GetLayout',
    '--',
    '0',
    '-1',
    '[]',
  ]);
}

/**
 * One item of the menu's layout text, as GVariant prints it:
 * `(2, {'toggle-state': <1>, 'toggle-type': <'checkmark'>, 'label': <'Sync enabled'>}, [])`.
 * @typedef {{ id: number, label: string, toggleState: number | null }} TrayItem
 * @param {string} text
 * @returns {TrayItem[]}
 */
function parseItems(text) {
  /** @type {TrayItem[]} */
  const items = [];
  for (const m of text.matchAll(/\((\d+), \{([^{}]*)\}/g)) {
    const props = m[2];
    const label = /'label': <'((?:[^'\\]|\\.)*)'>/.exec(props);
    if (!label) continue;
    const toggle = /'toggle-state': <(-?\d+)>/.exec(props);
    items.push({ id: Number(m[1]), label: label[1], toggleState: toggle ? Number(toggle[1]) : null });
  }
  return items;
}

/** The app's tray menu on the session bus, or an error saying why not. */
export class TrayMenu {
  /** @param {string} name */
  constructor(name) {
    this.name = name;
  }

  /** Finds the connection that publishes the tray menu (waits up to `timeoutMs`). */
  static async find(timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    let last = 'no bus connection publishes the tray menu';
    while (Date.now() < deadline) {
      for (const name of uniqueNames()) {
        try {
          if (parseItems(layout(name)).length > 0) return new TrayMenu(name);
        } catch (err) {
          last = err instanceof Error ? err.message.split('\n')[0] : String(err);
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`tray menu not found at ${MENU_PATH}: ${last}`);
  }

  /** @returns {TrayItem[]} */
  items() {
    return parseItems(layout(this.name));
  }

  /** @param {string} label */
  item(label) {
    const found = this.items().find((i) => i.label === label);
    if (!found) throw new Error(`tray has no "${label}" item (has: ${this.items().map((i) => i.label).join(', ')})`);
    return found;
  }

  /** Whether the check mark of `label` is set. @param {string} label */
  checked(label) {
    const { toggleState } = this.item(label);
    if (toggleState === null) throw new Error(`tray item "${label}" is not a check item`);
    return toggleState === 1;
  }

  /** Clicks `label`, as a panel does when the user picks it. @param {string} label */
  click(label) {
    const { id } = this.item(label);
    gdbus([
      '--dest',
      this.name,
      '--object-path',
      MENU_PATH,
      '--method',
      'com.canonical.dbusmenu.Event',
      '--',
      String(id),
      'clicked',
      '<"">',
      '0',
    ]);
  }
}
