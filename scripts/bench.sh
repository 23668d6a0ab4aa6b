#!/usr/bin/env bash
# Every measurement, each as a ratio of its floor measured side by side in the same run:
#   1. signing vs MD5 of the already-concatenated bytes (criterion, then interleaved);
#   2. notification parse + verify vs MD5 of the same signed bytes (interleaved);
#   3. the SQLite store's payment write at 1, 16 and 64 callers vs raw rusqlite committing
#      one row per transaction and 32 rows per transaction (synchronous = FULL, on the file
#      system of target/, which it names, with the cost of one fsync'd commit).
#   4. the notify endpoint over HTTP (wrk, a distinct signed body per request) at 1, 16 and
#      64 connections vs the same server answering a bare `ok` and vs the floor of 3.
#   5. the derive's compile cost, 100 structs, vs serde's derives (scripts/derive_cost.sh);
#   6. Payments::checkout (store in memory, and on a file) vs a bare reqwest POST of the same bytes.
#   7. the background sweep's store work (reconciliation's read, the attention list, the
#      fulfilment and event claims, the gauges' tally) over 10,000, 100,000 and 1,000,000
#      stored orders with the same few due, and peak memory: ratios of the smallest book's.
# Release builds; nothing here runs in CI (CI only compiles the benches).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
    apt-get install -y wrk >/dev/null || sudo apt-get install -y wrk >/dev/null
fi
cargo bench --bench signing -- --noplot "$@"
python3 - <<'PY'
import json, pathlib
base = pathlib.Path("target/criterion/sign_pay")
def median(name):
    return json.loads((base / name / "new" / "estimates.json").read_text())["median"]["point_estimate"]
floor = median("floor_md5_of_concatenated_bytes")
print(f"\nfloor (md5 of concatenated bytes): {floor:8.1f} ns  1.00x")
for name in ["derived", "naive_format_md5_hex"]:
    t = median(name)
    print(f"{name:34s} {t:8.1f} ns  {t / floor:.2f}x")
PY
cargo bench --bench signing_ratio
cargo bench --bench notify_ratio
cargo bench --bench store_commit
cargo bench --bench notify_http
cargo bench --bench checkout_ratio
cargo bench --bench scale
scripts/derive_cost.sh
