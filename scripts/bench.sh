#!/usr/bin/env bash
# Runs the signing benchmark and prints each variant's time as a ratio of the floor
# (MD5 of the already-concatenated bytes), all measured side by side in one run: first
# criterion's estimates, then an interleaved measurement that is robust to load changes.
set -euo pipefail
cd "$(dirname "$0")/.."
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
