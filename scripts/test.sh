#!/usr/bin/env bash
# The full test suite of xorpay-rs, as CI runs it (`.ci/run` calls this script).
# It first installs what the tests need and a fresh machine may lack, then checks formatting,
# lints (warnings are errors), rustdoc, and runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s ==\n' "$*"; }

# Installs Debian packages whose command is missing: install_missing <command> <package>...
install_missing() {
    local command=$1
    shift
    if command -v "$command" >/dev/null 2>&1; then
        return
    fi
    log "installing $* (for $command)"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

install_missing node nodejs                 # runs the WeixinJSBridge scripts in a real JS engine
install_missing chromium chromium           # the demo shop's browser tests (headless)
install_missing chromedriver chromium-driver
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

log "cargo fmt"
cargo fmt --all -- --check

log "cargo clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings

log "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --quiet

log "cargo test"
cargo test --workspace --all-features

echo "all checks passed"
