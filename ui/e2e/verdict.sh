#!/usr/bin/env bash
# Judges one spec's output (checks.mjs's summary line, "N passed, M failed,
# S screenshots"): exit 0 only when the spec printed a summary, at least one
# check passed and none failed. Screenshots are reported, never counted: a
# spec whose checks were all removed, or that saves pictures only, fails here
# even if its process exited 0.
# Usage: verdict.sh SPEC-OUTPUT-FILE
set -euo pipefail
log="${1:?usage: verdict.sh SPEC-OUTPUT-FILE}"
line="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)"
if [ -z "$line" ]; then
  echo "verdict: no summary line in $log (the spec did not run through checks.mjs, or died)"
  exit 1
fi
passed="${line%% passed*}"
failed="${line#* passed, }"
failed="${failed%% failed*}"
if [ "$failed" -gt 0 ]; then
  echo "verdict: $failed check(s) failed ($line)"
  exit 1
fi
if [ "$passed" -eq 0 ]; then
  echo "verdict: the spec made no checks ($line); screenshots are not checks"
  exit 1
fi
echo "verdict: $line"
