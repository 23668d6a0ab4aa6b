#!/usr/bin/env bash
# Runs a command with a throwaway MariaDB server on loopback, as pg_virtualenv does for
# PostgreSQL: a new data directory, a server on a free port, a user with a random password,
# and XORPAY_MYSQL_URL naming its database; the server and its data are gone afterwards.
# Usage: scripts/with_mariadb.sh <command>...
set -euo pipefail

dir=$(mktemp -d -t xorpay-mariadb.XXXXXX)
server=""
stop() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap stop EXIT

user=$(id -un)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" \
    --auth-root-authentication-method=socket --skip-test-db >"$dir/install.log" 2>&1 \
    || { cat "$dir/install.log"; exit 1; }
mariadbd --no-defaults --datadir="$dir/data" --socket="$dir/socket" --port="$port" \
    --bind-address=127.0.0.1 --user="$user" --skip-name-resolve --pid-file="$dir/pid" \
    --log-error="$dir/error.log" --max-connections=500 &
server=$!
for _ in $(seq 1 100); do
    if mariadb-admin --no-defaults --socket="$dir/socket" -uroot ping >/dev/null 2>&1; then
        break
    fi
    sleep 0.1
done
password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
mariadb --no-defaults --socket="$dir/socket" -uroot <<SQL
CREATE USER 'xorpay'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL ON *.* TO 'xorpay'@'127.0.0.1';
CREATE DATABASE xorpay;
SQL
export XORPAY_MYSQL_URL="mysql://xorpay:$password@127.0.0.1:$port/xorpay"
"$@"
