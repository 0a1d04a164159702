#!/bin/sh
# Chromium for `oicp-conformance report --pdf` and the browser test of tests/test_compliance_report.py.
# As root on a Debian/Ubuntu system it installs the distribution's package; elsewhere it says how.
set -eu

for name in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$name" >/dev/null 2>&1; then
        echo "already installed: $(command -v "$name")"
        exit 0
    fi
done

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
    exit 0
fi

cat >&2 <<'HOW'
Chromium is not installed, and this script installs it only as root with apt-get. Install it with:
  Debian/Ubuntu:  sudo apt-get install -y chromium    (Ubuntu may name it chromium-browser)
  Fedora:         sudo dnf install -y chromium
  macOS:          brew install --cask chromium   (or use an installed Google Chrome)
HOW
exit 1
