//! Creating an order against the in-process sandbox, interleaved: the service's whole
//! `Payments::checkout` on a store in memory (its cost without the disk) and on a SQLite
//! file (with its two durable writes), versus a bare reqwest POST of the same signed bytes
//! to the same server (the floor). Every call creates a distinct order. Run with
//! `scripts/bench.sh`.

// Timing ratios are measurements, not money: the workspace ban on float arithmetic is for money.
#![allow(clippy::float_arithmetic)]

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use xorpay::prelude::*;
use xorpay::store::AnyStore;
use xorpay_sandbox::Sandbox;

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const ROUNDS: usize = 30;
const BATCH: usize = 40;

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
#[xorpay(kind = native, notify_url = "http://127.0.0.1:9/notify")]
struct Coffee {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

fn coffee(id: String) -> Coffee {
    Coffee {
        id,
        title: "咖啡".into(),
        total: "12.50".parse().unwrap(),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // Measure only when asked (`cargo bench` passes `--bench`).
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let sandbox = Sandbox::builder()
        .secret(SECRET)
        .retry_unit(Duration::from_secs(3600))
        .build()
        .start()
        .await
        .unwrap();
    let secret = AppSecret::new(SECRET).unwrap();
    let service = |store: AnyStore| {
        Payments::<Coffee>::builder()
            .aid(sandbox.aid())
            .secret(SECRET)
            .notify_url("http://127.0.0.1:9/notify")
            .store(store)
            .base_url(sandbox.base_url())
            .no_background()
            .build()
            .unwrap()
    };
    let in_memory = service(SqliteStore::in_memory().unwrap().into());
    let http = reqwest::Client::new();
    let pay_url = format!("{}/api/pay/{}", sandbox.base_url(), sandbox.aid());
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("checkout_ratio");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("orders.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let payments = service(SqliteStore::open(&file).unwrap().into());

    let (mut floor, mut submit, mut checkout) = (Vec::new(), Vec::new(), Vec::new());
    let mut n = 0;
    for round in 0..ROUNDS {
        let bodies: Vec<String> = (0..BATCH)
            .map(|i| {
                coffee(format!("bare-{round}-{i}"))
                    .to_request(&secret)
                    .unwrap()
                    .body()
                    .to_owned()
            })
            .collect();
        let started = Instant::now();
        for body in bodies {
            let answer = http
                .post(&pay_url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let answer = answer.bytes().await.unwrap();
            assert!(
                answer.windows(13).any(|w| w == br#""status":"ok""#),
                "{answer:?}"
            );
        }
        let f = started.elapsed().as_secs_f64();

        let started = Instant::now();
        for _ in 0..BATCH {
            n += 1;
            let _shown = in_memory
                .checkout(coffee(format!("memory-{n}")))
                .await
                .unwrap();
        }
        let s = started.elapsed().as_secs_f64();

        let started = Instant::now();
        for _ in 0..BATCH {
            n += 1;
            let _shown = payments
                .checkout(coffee(format!("checkout-{n}")))
                .await
                .unwrap();
        }
        let c = started.elapsed().as_secs_f64();
        floor.push(f / BATCH as f64 * 1e6);
        submit.push(s / f);
        checkout.push(c / f);
    }
    println!("order creation, interleaved: {ROUNDS} rounds of {BATCH} orders each, medians");
    let (floor, submit, checkout) = (median(floor), median(submit), median(checkout));
    println!("  floor     bare reqwest POST of the signed bytes {floor:7.0} us  1.00x");
    println!("  memory    Payments::checkout, store in memory            {submit:.2}x");
    println!("  checkout  Payments::checkout (two durable writes)        {checkout:.2}x");
    println!(
        "MD: | `Payments::checkout` against the in-process sandbox, store in memory | a bare reqwest POST of the same bytes ({floor:.0} µs) | **{submit:.2}×** (with its two durable writes on a SQLite file: {checkout:.2}×) |"
    );
}
