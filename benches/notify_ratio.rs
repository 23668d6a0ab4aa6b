//! Notification parse + verify against its floor, interleaved as in `signing_ratio.rs`: MD5
//! of the same signed bytes (`aoid + order_id + pay_price + pay_time + secret`, already
//! concatenated) versus `Notification::parse(body)?.verify(&secret)` on the form body XorPay
//! posts, and parse alone. Run with `scripts/bench.sh`.

// Timing ratios are measurements, not money: the workspace ban on float arithmetic is for money.
#![allow(clippy::float_arithmetic)]

#[allow(dead_code)]
mod support;

use std::hint::black_box;

use support::{BATCH, ROUNDS, median, time_batch};

use xorpay::{AppSecret, Notification};

/// The shared signature vector, as XorPay posts it (escapes in `pay_time` and `detail`).
const BODY: &[u8] = b"aoid=e19c8c8673ba42419043fc92b99303c1&order_id=order-1&pay_price=50.00\
    &pay_time=2019-01-01+00%3A00%3A00&more=&detail=%7B%22transaction_id%22%3A%224200000%22%2C\
    %22bank_type%22%3A%22CFT%22%2C%22buyer%22%3A%22o***%40example.com%22%7D\
    &sign=1697d616f596edc250419d79f754ad16";
const SIGNED: &str = "e19c8c8673ba42419043fc92b99303c1order-150.002019-01-01 00:00:00mock_secret";

fn main() {
    // Measure only when asked (`cargo bench` passes `--bench`).
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let secret = AppSecret::new("mock_secret").unwrap();
    assert!(Notification::parse(BODY).unwrap().verify(&secret).is_ok());
    let (mut floor, mut verified, mut parsed) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let f = time_batch(|| {
            black_box(support::floor(black_box(SIGNED)));
        });
        let v = time_batch(|| {
            let notification = Notification::parse(black_box(BODY)).unwrap();
            black_box(notification.verify(black_box(&secret)).unwrap());
        });
        let p = time_batch(|| {
            black_box(Notification::parse(black_box(BODY)).unwrap());
        });
        floor.push(f);
        verified.push(v / f);
        parsed.push(p / f);
    }
    println!("notification, interleaved: {ROUNDS} rounds of {BATCH} calls each, medians");
    let (floor, verified, parsed) = (median(floor), median(verified), median(parsed));
    println!("  floor          md5 of the signed bytes       {floor:7.1} ns  1.00x");
    println!("  parse + verify the posted body                        {verified:.2}x");
    println!("  parse alone                                           {parsed:.2}x");
    println!(
        "MD: | notification parse + verify (`Notification::parse(body)?.verify(&secret)`, {} bytes, escapes in `pay_time` and `detail`) | MD5 of the same signed bytes ({floor:.0} ns) | **{verified:.2}×** (parse alone {parsed:.2}×) |",
        BODY.len()
    );
}
