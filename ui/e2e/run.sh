#!/usr/bin/env bash
# End-to-end smoke of the real app: starts it under Xvfb in its own D-Bus
# session, driven by tauri-driver (WebKitWebDriver underneath), with a fresh
# data directory, and checks it against the `ember` CLI.
#
# Needs: EMBER_APP (the app binary), EMBER_BIN (the ember CLI), TAURI_DRIVER
# (the tauri-driver binary); EMBER_SCREENSHOT_DIR (optional); EMBER_XSS_DIR
# (optional, default ../shared/data/xss: attack payloads and tracking mail).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${EMBER_APP:?set EMBER_APP to the app binary}"
: "${EMBER_BIN:?set EMBER_BIN to the ember CLI binary}"
: "${TAURI_DRIVER:?set TAURI_DRIVER to the tauri-driver binary}"
command -v WebKitWebDriver >/dev/null || { echo "WebKitWebDriver missing (Debian: webkit2gtk-driver)"; exit 1; }

data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
export EMBER_DATA_DIR="$data"
export EMBER_STATUS_CMD="'$EMBER_BIN' --data-dir '$data' status --json"
export TAURI_DRIVER_PORT="${TAURI_DRIVER_PORT:-4444}"
export EMBER_LOG="${EMBER_LOG:-info}"

# Everything inside one D-Bus session under one virtual display.
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c '
  set -euo pipefail
  "$TAURI_DRIVER" --port "$TAURI_DRIVER_PORT" > "$EMBER_DATA_DIR/tauri-driver.log" 2>&1 &
  driver=$!
  trap "kill $driver 2>/dev/null || true" EXIT
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$TAURI_DRIVER_PORT/status" >/dev/null 2>&1 && break
    sleep 0.2
  done
  status=0
  node "'"$here"'/smoke.mjs" || { echo "--- tauri-driver log"; tail -50 "$EMBER_DATA_DIR/tauri-driver.log"; status=1; }
  # The mail window: safe HTML against a loopback beacon, search, categories.
  node "'"$here"'/mail.mjs" || { echo "--- tauri-driver log"; tail -50 "$EMBER_DATA_DIR/tauri-driver.log"; status=1; }
  exit $status
'
