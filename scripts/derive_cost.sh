#!/usr/bin/env bash
# The derive's compile cost: a crate of 100 structs deriving `XorPayOrder` against the same
# 100 structs deriving serde's `Serialize` + `Deserialize`, each crate rebuilt alone (its
# dependencies built once beforehand), interleaved, RUNS times (default 3). Prints seconds
# and the ratio, min / median / max. Called by scripts/bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/target/derive-cost
runs=${RUNS:-3}
mkdir -p "$work"

make_crate() { # make_crate <name> <dependency lines> <derive line> <field attributes: yes|no>
    local name=$1 deps=$2 derive=$3 attributes=$4
    mkdir -p "$work/$name/src"
    cat > "$work/$name/Cargo.toml" <<TOML
[package]
name = "$name"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
$deps

[workspace]
TOML
    {
        echo '#![allow(dead_code)]'
        for n in $(seq 1 100); do
            echo "$derive"
            if [ "$attributes" = yes ]; then
                echo '#[xorpay(kind = native, notify_url = "https://shop.example.com/notify")]'
            fi
            echo "pub struct Order$n {"
            [ "$attributes" = yes ] && echo '    #[xorpay(order_id)]'
            echo "    pub id: String,"
            [ "$attributes" = yes ] && echo '    #[xorpay(name)]'
            echo "    pub title: String,"
            [ "$attributes" = yes ] && echo '    #[xorpay(price)]'
            echo "    pub total: u64,"
            echo "    pub note$n: Option<String>,"
            echo "}"
        done
    } > "$work/$name/src/lib.rs"
    if [ "$attributes" = yes ]; then
        sed -i 's/pub total: u64,/pub total: xorpay::Price,/' "$work/$name/src/lib.rs"
    fi
}

make_crate derive_xorpay "xorpay = { path = \"$root\", default-features = false }" \
    '#[derive(xorpay::XorPayOrder)]' yes
make_crate derive_serde 'serde = { version = "1", features = ["derive"] }' \
    '#[derive(serde::Serialize, serde::Deserialize)]' no

export CARGO_TARGET_DIR=$work/target
for crate in derive_xorpay derive_serde; do
    cargo build --quiet --manifest-path "$work/$crate/Cargo.toml"
done

seconds() { # seconds <crate>: a rebuild of the crate alone
    touch "$work/$1/src/lib.rs"
    local start end
    start=$(date +%s%N)
    cargo build --quiet --manifest-path "$work/$1/Cargo.toml"
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
}

xorpay_ms=() serde_ms=()
for _ in $(seq 1 "$runs"); do
    xorpay_ms+=("$(seconds derive_xorpay)")
    serde_ms+=("$(seconds derive_serde)")
done
python3 - "${xorpay_ms[*]}" "${serde_ms[*]}" <<'PY'
import sys
x = [int(v) for v in sys.argv[1].split()]
s = [int(v) for v in sys.argv[2].split()]
r = sorted(a / b for a, b in zip(x, s))
print(f"\nderive compile cost, 100 structs, rebuild of the crate alone ({len(x)} runs, interleaved)")
print(f"  XorPayOrder            {sorted(x)[len(x)//2] / 1000:.2f} s (median)")
print(f"  Serialize+Deserialize  {sorted(s)[len(s)//2] / 1000:.2f} s (median)")
print(f"  ratio                  {r[0]:.2f}x / {r[len(r)//2]:.2f}x / {r[-1]:.2f}x (min / median / max)")
print(f"MD: | the derive's compile cost, 100 structs (a rebuild of the crate alone) | serde's `Serialize` + `Deserialize` on the same ({sorted(s)[len(s)//2] / 1000:.2f} s) | **{r[len(r)//2]:.2f}×** ({r[0]:.2f}–{r[-1]:.2f}) |")
PY
