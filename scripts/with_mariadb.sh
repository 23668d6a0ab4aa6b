#!/usr/bin/env bash
# Runs a command with a throwaway MariaDB server on loopback, as pg_virtualenv does for
# PostgreSQL: a new data directory, a server on a free port, a user with a random password,
# and XORPAY_MYSQL_URL naming its database; the server and its data are gone afterwards.
# XORPAY_MYSQL_RESTART is a command that restarts the server (same port, same data), for the
# tests of what a restart does to a running shop.
# Usage: scripts/with_mariadb.sh <command>...
set -euo pipefail

dir=$(mktemp -d -t xorpay-mariadb.XXXXXX)
stop() {
    if [ -f "$dir/pid" ]; then
        kill "$(cat "$dir/pid")" 2>/dev/null || true
        while [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; do sleep 0.1; done
    fi
    rm -rf "$dir"
}
trap stop EXIT

user=$(id -un)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" \
    --auth-root-authentication-method=socket --skip-test-db >"$dir/install.log" 2>&1 \
    || { cat "$dir/install.log"; exit 1; }

# Starts the server in the background and waits until it answers; stops a running one first.
cat >"$dir/restart" <<SCRIPT
#!/bin/sh
set -e
if [ -f "$dir/pid" ]; then
    pid=\$(cat "$dir/pid")
    kill "\$pid" 2>/dev/null || true
    while kill -0 "\$pid" 2>/dev/null; do sleep 0.05; done
fi
mariadbd --no-defaults --datadir="$dir/data" --socket="$dir/socket" --port="$port" \\
    --bind-address=127.0.0.1 --user="$user" --skip-name-resolve --pid-file="$dir/pid" \\
    --log-error="$dir/error.log" --max-connections=500 </dev/null >/dev/null 2>&1 &
for _ in \$(seq 1 200); do
    if mariadb-admin --no-defaults --socket="$dir/socket" -uroot ping >/dev/null 2>&1; then
        exit 0
    fi
    sleep 0.05
done
echo "MariaDB did not start:" >&2
cat "$dir/error.log" >&2
exit 1
SCRIPT
chmod +x "$dir/restart"
"$dir/restart"

password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
mariadb --no-defaults --socket="$dir/socket" -uroot <<SQL
CREATE USER 'xorpay'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL ON *.* TO 'xorpay'@'127.0.0.1';
CREATE DATABASE xorpay;
SQL
export XORPAY_MYSQL_URL="mysql://xorpay:$password@127.0.0.1:$port/xorpay"
export XORPAY_MYSQL_RESTART="$dir/restart"
"$@"
