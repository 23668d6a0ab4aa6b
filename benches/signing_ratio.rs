//! The ratios of `benches/signing.rs`, measured interleaved: each round times a batch of
//! every variant in turn, so a change in machine load affects all of them alike, and the
//! report is the median of the per-round ratios. Run with `scripts/bench.sh`.

// Timing ratios are measurements, not money: the workspace ban on float arithmetic is for money.
#![allow(clippy::float_arithmetic)]

mod support;

use std::hint::black_box;

use support::{BATCH, ROUNDS, median, time_batch};

use xorpay::Signable;

fn main() {
    // `cargo test` also runs bench targets, without `--bench`: measure only when asked.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let support::Setup {
        order,
        secret,
        concatenated,
    } = support::setup();
    let (mut floor, mut derived, mut naive) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let f = time_batch(|| {
            black_box(support::floor(black_box(&concatenated)));
        });
        let d = time_batch(|| {
            let _ = black_box(black_box(&order).signature(black_box(&secret)));
        });
        let n = time_batch(|| {
            black_box(support::naive(black_box(&order)));
        });
        floor.push(f);
        derived.push(d / f);
        naive.push(n / f);
    }
    println!("interleaved: {ROUNDS} rounds of {BATCH} calls each, medians");
    let (floor, derived, naive) = (median(floor), median(derived), median(naive));
    println!("  floor    md5 of the concatenated bytes {floor:7.1} ns  1.00x");
    println!("  derived  signature of the struct                  {derived:.2}x");
    println!("  naive    format! + md5 + hex                      {naive:.2}x");
    println!(
        "MD: | signing through the derive (`order.signature(&secret)`) | MD5 of the already-concatenated bytes ({floor:.0} ns) | **{derived:.2}×** (the way most SDKs sign, `format!` + MD5 + hex: {naive:.2}×) |"
    );
}
