#!/bin/sh
# Installs the Debian-packaged crate sources used by the `registry` test fixtures
# (scripts/fixtures.mjs): cfg-if 1.x, cfg-if 0.1 and libc, unpacked under /usr/share/cargo/registry.
# Idempotent: does nothing when they are already there. Exits 0 with a message when apt is not
# available, so callers can record the fixture as skipped instead of failing.
set -u

REGISTRY=/usr/share/cargo/registry
PACKAGES="librust-cfg-if-dev librust-cfg-if-0.1-dev librust-libc-dev"

have() {
  # Globs rather than exact versions: Debian releases ship different patch versions.
  ls -d "$REGISTRY"/$1 >/dev/null 2>&1
}

if have 'cfg-if-1.*' && have 'cfg-if-0.1.*' && have 'libc-0.2.*'; then
  echo "debian crates: already installed in $REGISTRY"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "debian crates: apt-get is not available; nothing installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    SUDO="sudo -n"
  else
    echo "debian crates: installing needs root (or password-less sudo); nothing installed"
    exit 0
  fi
fi

export DEBIAN_FRONTEND=noninteractive
# Update the package lists only when a first install attempt cannot find the packages.
if ! $SUDO apt-get install -y --no-install-recommends $PACKAGES; then
  echo "debian crates: first install attempt failed; updating package lists and retrying"
  $SUDO apt-get update || { echo "debian crates: apt-get update failed" >&2; exit 1; }
  $SUDO apt-get install -y --no-install-recommends $PACKAGES || {
    echo "debian crates: apt-get install failed" >&2
    exit 1
  }
fi
echo "debian crates: installed $PACKAGES"
