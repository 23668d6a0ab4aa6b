#!/usr/bin/env bash
# The full test suite of xorpay-rs, as CI runs it (`.ci/run` calls this script).
# It first installs what the tests need and a fresh machine may lack, then checks formatting,
# lints (warnings are errors), rustdoc, and runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step's title, with the seconds since the script started: where the time goes.
log() { printf '\n== %s == (at %ss)\n' "$*" "$SECONDS"; }

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

install_missing python3 python3            # the module-circle check
install_missing node nodejs                 # runs the WeixinJSBridge scripts in a real JS engine
install_missing chromium chromium           # the demo shop's browser tests (headless)
install_missing chromedriver chromium-driver
install_missing pg_virtualenv postgresql    # a throwaway PostgreSQL for PgStore's tests
install_missing mariadbd mariadb-server     # a throwaway MariaDB for MySqlStore's tests
install_missing fc-match fontconfig
install_missing promtool prometheus         # checks /metrics' exposition and docs/metrics.md's alerts
# A CJK font, or Chromium draws every Chinese character as a box (and DOM text cannot tell).
if ! fc-list :lang=zh-cn family | grep -q .; then
    log "installing fonts-wqy-microhei (Chinese text in the browser tests)"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends fonts-wqy-microhei
fi
fc-match :lang=zh-cn family | grep -qi 'wenquanyi\|noto sans cjk\|noto serif cjk' \
    || { echo "no CJK font: fc-match :lang=zh-cn finds $(fc-match :lang=zh-cn)"; exit 1; }
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

log "cargo fmt"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check

# No two modules may use each other, in the library, the sandbox or the demo shop
# (scripts/module_circles.py says what counts); the check must also reject its fixture.
log "no module circles"
python3 scripts/module_circles.py xorpay-core/src/lib.rs xorpay-sandbox/src/lib.rs xorpay-cli/src/main.rs examples/shop/main.rs
if python3 scripts/module_circles.py scripts/fixtures/module_circle/lib.rs >/dev/null; then
    echo "scripts/module_circles.py accepted scripts/fixtures/module_circle, which has a circle"
    exit 1
fi

log "cargo clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings

log "the fuzz targets build (scripts/fuzz.sh runs them)"
CARGO_TARGET_DIR="$PWD/target/fuzz-check" cargo clippy --quiet --manifest-path fuzz/Cargo.toml -- -D warnings

log "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --quiet
# What a user of `xorpay` reads names `xorpay::` paths, never the inner `xorpay_core::` ones.
if grep -rl 'xorpay_core::' target/doc/xorpay; then
    echo "xorpay's rendered docs name xorpay_core:: paths (files above)"
    exit 1
fi

# Each feature on its own (and none) builds: a feature that leans on another's code without
# enabling it fails here, not in a user's build.
log "each feature alone"
for feature in "" client axum actix-web sqlite postgres mysql cli metrics; do
    cargo check --quiet -p xorpay --no-default-features ${feature:+--features "$feature"}
done
# No OpenSSL anywhere: TLS is rustls in every store and in the client.
if cargo tree --workspace --all-features -i openssl-sys 2>/dev/null | grep -q .; then
    echo "openssl-sys is in the build:"
    cargo tree --workspace --all-features -i openssl-sys
    exit 1
fi

# Every test, with a throwaway PostgreSQL cluster and a throwaway MariaDB server on loopback
# (pg_virtualenv and scripts/with_mariadb.sh create them, set their URLs and drop them
# afterwards, and say how to restart them: XORPAY_POSTGRES_RESTART, XORPAY_MYSQL_RESTART); XORPAY_REQUIRE_POSTGRES and XORPAY_REQUIRE_MYSQL make a test that finds no
# database fail instead of skipping.
log "cargo test (with a throwaway PostgreSQL and MariaDB)"
XORPAY_POSTGRES_RESTART="$PWD/scripts/restart_pg_virtualenv.sh" \
    scripts/with_mariadb.sh pg_virtualenv sh -c \
    'XORPAY_POSTGRES_URL="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$PGDATABASE" \
    XORPAY_REQUIRE_POSTGRES=1 XORPAY_REQUIRE_MYSQL=1 XORPAY_REQUIRE_PROMTOOL=1 \
    exec cargo test --workspace --all-features'

# The README's install snippet, run in a new crate (with xorpay taken from this checkout),
# must build the README's complete server as it stands.
log "install snippet"
root=$PWD
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cargo init --quiet --name install-check "$scratch"
cp Cargo.lock "$scratch/"
sed -n '/^## Install/,/^```$/p' README.md | grep '^cargo add ' \
    | sed "s#^cargo add xorpay #cargo add --path $root #" > "$scratch/install.sh"
(cd "$scratch" && sh -e install.sh 2>/dev/null)
cp examples/notify_server.rs "$scratch/src/main.rs"
CARGO_TARGET_DIR="$root/target" cargo build --quiet --manifest-path "$scratch/Cargo.toml"
# Its docs build too, xorpay's among them (a path dependency with the README's features: no
# link may point at an item of a feature that is off).
CARGO_TARGET_DIR="$root/target" cargo doc --quiet --manifest-path "$scratch/Cargo.toml"

# Every published crate packages (its files, its manifest, its build from the packaged
# sources, the workspace's crates resolved from the packages themselves).
log "cargo package"
# Cargo unpacks the packages it verifies under CARGO_HOME, keyed by name and version, and
# reuses what an earlier run unpacked: our own 0.1.0 from an earlier commit would be built
# instead of this one.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/xorpay*-0.1.0
cargo package --workspace --exclude xorpay-testkit --quiet --allow-dirty

echo "all checks passed in ${SECONDS}s"
