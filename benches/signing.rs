//! Signing through a derived struct, side by side with the floor (MD5 of the same bytes,
//! already concatenated) and the naive way (`format!` + MD5 + hex), in one criterion run.
//!
//! Run with `scripts/bench.sh`, which prints the ratios; the target is derived / floor ≤ 1.10.

// The interleaved-timing helpers are for the ratio benches.
#[allow(dead_code)]
mod support;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use xorpay::Signable;

fn signing(c: &mut Criterion) {
    let support::Setup {
        order,
        secret,
        concatenated,
    } = support::setup();
    let mut group = c.benchmark_group("sign_pay");
    group.bench_function("floor_md5_of_concatenated_bytes", |b| {
        b.iter(|| support::floor(black_box(&concatenated)))
    });
    group.bench_function("derived", |b| {
        b.iter(|| black_box(&order).signature(black_box(&secret)))
    });
    group.bench_function("naive_format_md5_hex", |b| {
        b.iter(|| support::naive(black_box(&order)))
    });
    group.finish();
}

criterion_group!(benches, signing);
criterion_main!(benches);
