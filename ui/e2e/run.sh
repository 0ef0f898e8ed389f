#!/usr/bin/env bash
# End-to-end tests of the real app: each spec starts it under Xvfb in its own
# D-Bus session, driven by tauri-driver (WebKitWebDriver underneath), with a
# fresh data directory of its own.
#   smoke.mjs  the first screen, the sync switch against the `ember` CLI,
#              demo accounts and demo mail arriving.
#   mail.mjs   the mail window: sync progress, safe HTML against a loopback
#              beacon, remote content, search, categories.
#   workitems.mjs  the work-item pane (g w) grouped by state against the CLI
#              and the emulator, an item's mail and the reading pane's strip,
#              a state change from the strip reaching the emulator, hostile
#              descriptions and comments inert in sandboxed frames.
#   compose.mjs  replying: a message delivered to the demo Gmail inbox, r,
#              typed text, Ctrl+Enter, the undo window, then the emulator's
#              truth has the reply in Sent once, in the original's thread.
#   startup.mjs  start-up problems said in a window: the profile held by
#              another program, a database from a newer version (left
#              byte-identical).
#   coldstart.mjs  cold start to the first painted row on a store of 10,000
#              messages (built by `ember bench query --dir`); prints its
#              figure, asserts none.
#   keyring:SPEC.mjs  SPEC with a real Secret Service: gnome-keyring's login
#              keyring, created in a folder of the run and unlocked with a
#              password on stdin, in the spec's D-Bus session; afterwards
#              keyring.mjs checks the sign-ins landed in it (secret-tool) and
#              that the CLI's doctor, a second process, reads them there.
#              Without the prefix no keychain is usable (gnome-keyring may be
#              activated on the bus, but has no unlocked keyring), the path
#              of a machine without one: sign-ins kept in memory, and the
#              window says so.
#
# A spec passes only when verdict.sh accepts its summary: at least one check
# passed, none failed (screenshots are reported apart and never count).
# coldstart.mjs, a measurement, is judged by its exit code alone.
#
# Usage: run.sh [SPEC.mjs ...]   (default: EMBER_E2E_SPECS, else every spec
# above, coldstart.mjs first, on a machine nothing else of the run is using
# yet; then smoke and compose again with the keyring: signing in, syncing and
# sending as desktop users do)
#
# Needs: EMBER_APP (the app binary), EMBER_BIN (the ember CLI), TAURI_DRIVER
# (the tauri-driver binary); EMBER_SCREENSHOT_DIR (optional); EMBER_XSS_DIR
# (optional, default ../shared/data/xss: attack payloads and tracking mail);
# EMBER_E2E_SPECS (optional: which specs, e.g. "coldstart.mjs").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${EMBER_APP:?set EMBER_APP to the app binary}"
: "${EMBER_BIN:?set EMBER_BIN to the ember CLI binary}"
: "${TAURI_DRIVER:?set TAURI_DRIVER to the tauri-driver binary}"
command -v WebKitWebDriver >/dev/null || { echo "WebKitWebDriver missing (Debian: webkit2gtk-driver)"; exit 1; }
command -v gdbus >/dev/null || { echo "gdbus missing (Debian: libglib2.0-bin); the tray checks read the menu over D-Bus"; exit 1; }

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
export TAURI_DRIVER_PORT="${TAURI_DRIVER_PORT:-4444}"
export EMBER_LOG="${EMBER_LOG:-info}"
export HERE="$here"

# run_spec SPEC [keyring]: one spec, its own data directory, display, D-Bus
# session and tauri-driver (which passes its environment on to the app it
# starts); with `keyring`, an unlocked gnome-keyring in that session. Then
# verdict.sh on its output unless JUDGE=exit (a measurement).
run_spec() {
  local spec="$1" keyring="${2:-}"
  local data="$root/${keyring:+keyring-}${spec%.mjs}"
  mkdir -p "$data"
  EMBER_DATA_DIR="$data" \
  EMBER_STATUS_CMD="'$EMBER_BIN' --data-dir '$data' status --json" \
  EMBER_E2E_KEYCHAIN="${keyring:+1}" \
  EMBER_SCREENSHOT_DIR="${EMBER_SCREENSHOT_DIR:+$EMBER_SCREENSHOT_DIR${keyring:+/keyring}}" \
  SPEC="$spec" \
  xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c '
    set -euo pipefail
    if [ -n "$EMBER_E2E_KEYCHAIN" ]; then
      # Creates the login keyring (in this run'"'"'s folder, not the user'"'"'s)
      # and unlocks it; the daemon serves org.freedesktop.secrets on this
      # session bus and ends with it.
      eval "$(printf %s ember-e2e | XDG_DATA_HOME="$EMBER_DATA_DIR.keyring" \
        gnome-keyring-daemon --unlock --components=secrets)"
      export GNOME_KEYRING_CONTROL
    fi
    "$TAURI_DRIVER" --port "$TAURI_DRIVER_PORT" --native-port "$((TAURI_DRIVER_PORT + 1))" \
      > "$EMBER_DATA_DIR/tauri-driver.log" 2>&1 &
    driver=$!
    # WebKitWebDriver, which tauri-driver starts, with it: one left behind
    # (its session stuck on an app that never came up) holds the native
    # port, and the next spec'"'"'s tauri-driver would talk to it.
    trap "pkill -TERM -P $driver 2>/dev/null; kill $driver 2>/dev/null || true" EXIT
    for _ in $(seq 1 100); do
      curl -fsS "http://127.0.0.1:$TAURI_DRIVER_PORT/status" >/dev/null 2>&1 && break
      sleep 0.2
    done
    node "$HERE/$SPEC" | tee "$EMBER_DATA_DIR/spec.out" ||
      { echo "--- tauri-driver log"; tail -50 "$EMBER_DATA_DIR/tauri-driver.log"; exit 1; }
    if [ -n "$EMBER_E2E_KEYCHAIN" ]; then node "$HERE/keyring.mjs"; fi
  ' || return 1
  [ "${JUDGE:-summary}" = exit ] || "$here/verdict.sh" "$data/spec.out"
}

# The cold-start spec opens an existing store: 10,000 synthetic messages.
coldstart() {
  local data="$root/coldstart"
  mkdir -p "$data"
  "$EMBER_BIN" --data-dir "$data" bench query --messages 10000 --samples 10 --dir "$data" --json >/dev/null
  JUDGE=exit RUNS="${RUNS:-3}" run_spec coldstart.mjs
}

status=0
# Each spec its own pair of ports, so that nothing a spec left behind can
# answer the next one.
base_port="$TAURI_DRIVER_PORT"
next_port() { TAURI_DRIVER_PORT=$((base_port + 2 * ${1})); export TAURI_DRIVER_PORT; }
specs=("$@")
[ ${#specs[@]} -gt 0 ] || read -r -a specs <<< "${EMBER_E2E_SPECS:-coldstart.mjs smoke.mjs mail.mjs workitems.mjs compose.mjs startup.mjs keyring:smoke.mjs keyring:compose.mjs}"
for i in "${!specs[@]}"; do
  spec="${specs[$i]}"
  next_port "$i"
  case "$spec" in
    coldstart.mjs) coldstart || status=1 ;;
    keyring:*)
      if ! command -v gnome-keyring-daemon >/dev/null || ! command -v secret-tool >/dev/null; then
        echo "$spec: gnome-keyring-daemon or secret-tool missing (Debian: gnome-keyring libsecret-tools)"
        echo "0 passed, 1 failed"
        status=1
      else
        run_spec "${spec#keyring:}" keyring || status=1
      fi
      ;;
    *) run_spec "$spec" || status=1 ;;
  esac
done
exit $status
