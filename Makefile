# Fireside Ember: the two commands a newcomer needs are `make run` and
# `make test`. Both install what is missing first (Debian packages, npm
# packages, the WebDriver bridge for end-to-end tests), so they work on a
# fresh machine. Build output lives outside the clone by default so that
# rebuilds of fresh clones are incremental; override CARGO_TARGET_DIR to move it.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export CARGO_TARGET_DIR ?= $(HOME)/.cache/fireside-ember/target
# The categoriser's sentence model (all-MiniLM-L6-v2 from a pinned PyPI
# wheel): one stable place that the app, the CLI and the tests all read.
export EMBER_MODEL_DIR ?= $(HOME)/.cache/fireside-ember/models/all-MiniLM-L6-v2
TOOLS_DIR ?= $(HOME)/.cache/fireside-ember/tools
CARGO ?= cargo
APP := $(CARGO_TARGET_DIR)/debug/fireside-ember
EMBER := $(CARGO_TARGET_DIR)/debug/ember
TAURI_DRIVER := $(TOOLS_DIR)/bin/tauri-driver
# cargo-deny, pinned (0.20.2 needs Rust 1.88; rust-toolchain.toml has 1.95).
CARGO_DENY_VERSION := 0.20.2
CARGO_DENY := $(TOOLS_DIR)/bin/cargo-deny
# The RustSec advisory snapshot (a git bundle) in shared/, beside the clone.
# Without it check-deps still checks licences, bans and sources, and says
# that advisories were skipped.
EMBER_ADVISORY_BUNDLE ?= $(CURDIR)/../shared/advisory-db/advisory-db.bundle
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian/Ubuntu packages Tauri (WebKitGTK), the tray and the headless
# end-to-end run need; chromium runs the UI's browser tests (playwright-core
# drives it, so nothing is downloaded from Playwright's CDN).
DEBIAN_PACKAGES := build-essential curl file pkg-config libssl-dev \
	libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev \
	xvfb xauth webkit2gtk-driver dbus-x11 at-spi2-core libglib2.0-bin chromium
# The package check (xdotool finds the installed app's window,
# desktop-file-validate reads its desktop entry) and the end-to-end run with a
# real Secret Service (gnome-keyring; secret-tool reads what landed in it).
DEBIAN_PACKAGES += xdotool desktop-file-utils gnome-keyring libsecret-tools

.PHONY: help run test setup system-deps ui-deps ui-build app bindings model \
	check-rust check-deps test-rust fuzz-short fuzz check-ui test-ui test-browser e2e clean

help:
	@echo "make run    build and open Fireside Ember"
	@echo "make test   install what is missing, then run every test suite"

## The two commands ---------------------------------------------------------

run: setup model ui-build
	$(CARGO) build --locked -p fireside-ember-app -p fireside-ember --bins
	$(APP)

test: setup model ui-build check-rust check-deps test-rust fuzz-short check-ui test-ui test-browser e2e
	@echo "make test: every suite passed"

## Set-up ---------------------------------------------------------------------

setup: system-deps ui-deps

system-deps:
	@if ! command -v dpkg >/dev/null; then \
		echo "Not a Debian-based system: install the packages listed in README.md yourself."; \
	elif ! dpkg -s $(DEBIAN_PACKAGES) >/dev/null 2>&1; then \
		echo "Installing Debian packages ..."; \
		$(SUDO) apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(DEBIAN_PACKAGES); \
	fi

# Fetches the sentence model once (checks the wheel's sha256); a no-op when present.
model: $(EMBER_MODEL_DIR)/model.safetensors

$(EMBER_MODEL_DIR)/model.safetensors:
	scripts/fetch-model

ui-deps: ui/node_modules/.installed

# --no-audit: `npm audit` posts the lockfile to the registry's bulk advisory
# endpoint, and the registry these machines reach answers that POST with 405
# Method Not Allowed (only GET and HEAD are served), so an audit here can only
# fail. Rust dependencies are audited offline by check-deps. (What ships in
# the UI bundle: @tauri-apps/api, @tanstack/virtual-core and Svelte's runtime.)
ui/node_modules/.installed: ui/package.json ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund
	touch $@

ui-build: ui-deps
	cd ui && npm run build

$(TAURI_DRIVER):
	$(CARGO) install tauri-driver --version '^2' --locked --root $(TOOLS_DIR)

## Pieces of `make test` --------------------------------------------------------

check-rust:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

# cargo-deny over the whole workspace, offline (deny.toml, scripts/check-deps):
# advisories from the RustSec snapshot, licences, bans (duplicate versions
# warn), sources. Installs the pinned cargo-deny into TOOLS_DIR when missing.
check-deps:
	@$(CARGO_DENY) --version 2>/dev/null | grep -qxF 'cargo-deny $(CARGO_DENY_VERSION)' || \
		$(CARGO) install cargo-deny --version '=$(CARGO_DENY_VERSION)' --locked --root $(TOOLS_DIR)
	CARGO='$(CARGO)' CARGO_DENY='$(CARGO_DENY)' EMBER_ADVISORY_BUNDLE='$(EMBER_ADVISORY_BUNDLE)' \
		scripts/check-deps

test-rust:
	$(CARGO) test --locked --workspace

# Coverage-guided fuzzing (fuzz/, scripts/fuzz; stable toolchain, libFuzzer
# from libfuzzer-sys): every parser of untrusted bytes, from the committed
# seed corpus, FUZZ_SHORT_SECONDS each; any crash or broken property fails.
FUZZ_SHORT_SECONDS ?= 20
fuzz-short:
	scripts/fuzz build
	FUZZ_SECONDS=$(FUZZ_SHORT_SECONDS) scripts/fuzz run

# The long run, at background priority: `make fuzz FUZZ_SECONDS=600`
# (per target; FUZZ_TARGETS to pick some). The figures are in each target's
# log under ~/.cache/fireside-ember/fuzz-work/logs.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=
fuzz:
	scripts/fuzz build
	FUZZ_SECONDS=$(FUZZ_SECONDS) nice -n 19 scripts/fuzz run $(FUZZ_TARGETS)

check-ui: ui-deps
	cd ui && npm run check && npm run lint

test-ui: ui-deps
	cd ui && npm test

# The built UI in headless Chromium against the mocked backend (ui/tests/browser).
test-browser: ui-deps
	cd ui && npm run test:browser

app: ui-build
	$(CARGO) build --locked -p fireside-ember-app -p fireside-ember --bins

e2e: app $(TAURI_DRIVER)
	TAURI_DRIVER=$(TAURI_DRIVER) EMBER_APP=$(APP) EMBER_BIN=$(EMBER) \
		EMBER_SCREENSHOT_DIR=$(CURDIR)/target/e2e ui/e2e/run.sh

## Packages --------------------------------------------------------------------
# The Tauri bundler (@tauri-apps/cli, an npm package with a prebuilt binary)
# makes the .deb from src-tauri/tauri.conf.json's "bundle" section: name,
# icons, desktop entry (src-tauri/fireside-ember.desktop); the version is the
# Cargo workspace's. See README.md, "Packages", for the other formats.
TAURI := $(CURDIR)/ui/node_modules/.bin/tauri
EMBER_VERSION = $(shell awk '/^\[workspace\.package\]/ { s = 1; next } /^\[/ { s = 0 } \
	s && /^version *=/ { gsub(/"/, "", $$3); print $$3; exit }' Cargo.toml)
DEB_FILE = Fireside Ember_$(EMBER_VERSION)_$(shell dpkg --print-architecture 2>/dev/null || echo amd64).deb
RELEASE_DEB = $(CARGO_TARGET_DIR)/release/bundle/deb/$(DEB_FILE)
DEBUG_DEB = $(CARGO_TARGET_DIR)/debug/bundle/deb/$(DEB_FILE)

.PHONY: package package-check icons

# The release .deb users install (a release build: 10-15 minutes cold).
package: setup ui-build
	$(TAURI) build --bundles deb -- --locked
	@echo "make package: $(RELEASE_DEB) ($$(du -h "$(RELEASE_DEB)" | cut -f1))"

# CI checks the debug .deb: the same bundler and configuration as `make
# package`, around the debug binary the end-to-end tests already built (a
# release build would add 10-15 minutes to a cold `make test`). It extracts
# it, checks its control fields, binary, desktop entry and icons, starts the
# extracted binary under Xvfb and quits it from the tray (scripts/package-check).
package-check: app
	$(TAURI) bundle --debug --bundles deb
	scripts/package-check "$(DEBUG_DEB)"

test: package-check

# Every icon size the bundler and the desktop want, from the one source image
# (mobile icons are not kept: no mobile target).
icons: ui-deps
	$(TAURI) icon src-tauri/icons/icon.svg -o src-tauri/icons
	$(TAURI) icon src-tauri/icons/icon.svg -o src-tauri/icons --png 16,24,48,256
	rm -rf src-tauri/icons/android src-tauri/icons/ios src-tauri/icons/Square*Logo.png \
		src-tauri/icons/StoreLogo.png src-tauri/icons/128x128@2x.png

## Maintenance -------------------------------------------------------------------

# Regenerates ui/src/bindings from the Rust types.
bindings:
	EMBER_WRITE_BINDINGS=1 $(CARGO) test --locked --lib bindings

clean:
	rm -rf ui/dist ui/node_modules target
