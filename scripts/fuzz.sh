#!/bin/sh
# Runs every cargo-fuzz target for a set time and prints the executions of each.
#
#   scripts/fuzz.sh            # 60 seconds per target
#   FUZZ_SECONDS=600 scripts/fuzz.sh
#
# `-s none` builds without a sanitizer, which works on stable Rust (the code has no `unsafe`,
# so AddressSanitizer has little to add). A crash stops the run with the input saved under
# fuzz/artifacts/<target>/; turn it into a regression test in tests/hostile_input.rs.
set -eu
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

cd fuzz
cargo fuzz build -s none
report=""
for target in form price notification response; do
    # New inputs go to corpus/<target> (not committed); the seeds are read-only.
    mkdir -p "corpus/$target"
    log="target/$target.log"
    cargo fuzz run -s none "$target" "corpus/$target" "seeds/$target" -- \
        -dict=xorpay.dict -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || {
        tail -n 40 "$log"
        echo "fuzz target $target failed; see fuzz/$log and fuzz/artifacts/$target/" >&2
        exit 1
    }
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$log")
    corpus=$(ls "corpus/$target" | wc -l)
    report="$report$(printf '%-13s %s, corpus %s inputs' "$target" "$runs" "$corpus")\n"
done
printf "\nfuzz targets, %s s each, no crash:\n$report" "$seconds"
