//! The notify endpoint over HTTP, as XorPay reaches it: axum with `Payments::router`
//! on a SQLite file (`synchronous = FULL`), loaded by Debian's `wrk` with a Lua script that
//! posts a distinct signed notification per request, at 1, 16 and 64 connections. Beside it,
//! in the same run: the same server answering a bare `ok` on another route to the same bodies,
//! and raw rusqlite committing the same conditional `UPDATE` one row per transaction (the
//! one-fsync-per-payment floor). Rates are counted on the server (answers 200 within the
//! run); afterwards every order is checked paid exactly once.
//!
//! `scripts/bench.sh` runs it (and installs `wrk` when missing). `NOTIFY_BENCH_ORDERS`
//! (default 50000) pending orders per measurement, more than rate × duration so that every
//! request is a first delivery (the run says so, or warns), `NOTIFY_BENCH_SECONDS` (default
//! 2), `NOTIFY_BENCH_RUNS` (default 3).

// Timing ratios are measurements, not money: the workspace ban on float arithmetic is for money.
#![allow(clippy::float_arithmetic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::routing::post;
use serde::{Deserialize, Serialize};
use xorpay::prelude::*;
use xorpay::store::{OrderStore, Record, RecordState};
use xorpay_sandbox::Sandbox;

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const PAY_TIME: &str = "2026-12-02 10:00:00";

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
#[xorpay(kind = alipay, notify_url = from_client)]
struct Tea {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn md5_hex(parts: &[&str]) -> String {
    xorpay_testkit::md5_hex(parts)
}

/// A genuine notification body for one order.
fn body(aoid: &str, order_id: &str) -> String {
    let sign = md5_hex(&[aoid, order_id, "1.00", PAY_TIME, SECRET]);
    let mut form = xorpay::form::FormBody::new();
    form.pair("aoid", aoid)
        .pair("order_id", order_id)
        .pair("pay_price", "1.00")
        .pair("pay_time", PAY_TIME)
        .pair("more", "")
        .pair(
            "detail",
            r#"{"transaction_id":"4200000","bank_type":"CFT","buyer":"o***"}"#,
        )
        .pair("sign", &sign);
    form.into_string()
}

/// A fresh store file with `orders` pending orders: one checked out through the service
/// against the sandbox, the rest copies of its row under other numbers and aoids.
async fn pending(
    dir: &Path,
    name: &str,
    sandbox: &Sandbox,
    orders: usize,
) -> (Payments<Tea>, PathBuf, Vec<String>) {
    let file = dir.join(format!("{name}.sqlite"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let store = SqliteStore::open(&file).unwrap();
    let payments = Payments::<Tea>::builder()
        .aid(sandbox.aid())
        .secret(SECRET)
        .notify_url("http://127.0.0.1:9/notify")
        .store(store.clone())
        .base_url(sandbox.base_url())
        .no_background()
        .build()
        .unwrap();
    let template_id = format!("{name}-template");
    let tea = Tea {
        id: template_id.clone(),
        title: "乌龙茶".into(),
        total: "1.00".parse().unwrap(),
    };
    let _shown = payments.checkout(tea).await.unwrap();
    let template = store.load(&template_id).await.unwrap().unwrap();
    assert_eq!(template.state, RecordState::Pending);
    let template_aoid = template.aoid.clone().unwrap();
    let mut bodies = Vec::with_capacity(orders);
    let mut tasks = Vec::new();
    for n in 0..orders {
        let (order_id, aoid) = (format!("{name}-{n}"), format!("{:08x}{n:024x}", n ^ 0x5eed));
        let copy = Record {
            order_id: order_id.clone(),
            aoid: Some(aoid.clone()),
            order: template.order.replace(&template_id, &order_id),
            data: template
                .data
                .replace(&template_id, &order_id)
                .replace(&template_aoid, &aoid),
            ..template.clone()
        };
        bodies.push(body(&aoid, &order_id));
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.insert(&copy).await }));
        if tasks.len() == 512 {
            for task in tasks.drain(..) {
                task.await.unwrap().unwrap();
            }
        }
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    (payments, file, bodies)
}

/// Serves `/notify` (the service) and `/ok` (a bare answer) and counts 200s on each.
async fn serve(payments: Payments<Tea>) -> (String, Arc<AtomicU64>) {
    let answered = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&answered);
    let app = axum::Router::new()
        .merge(payments.router())
        .route("/ok", post(|_body: axum::body::Bytes| async { "ok" }))
        .layer(axum::middleware::map_response(
            move |response: axum::response::Response| {
                let counter = Arc::clone(&counter);
                async move {
                    if response.status().is_success() {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    response
                }
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, answered)
}

const LUA: &str = r#"
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  bodies = {}
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  step = tonumber(args[2])
  index = id + 1
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
function request()
  local body = bodies[index]
  index = index + step
  if index > #bodies then index = (index - 1) % #bodies + 1 end
  return wrk.format(nil, nil, nil, body)
end
"#;

struct Load {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// `wrk` at `connections` for `seconds` against `url`; the rate is the server's count.
fn wrk(
    url: &str,
    bodies: &Path,
    script: &Path,
    connections: usize,
    seconds: usize,
    answered: &AtomicU64,
) -> Load {
    let threads = connections.min(2);
    let before = answered.load(Ordering::Relaxed);
    let started = Instant::now();
    let output = std::process::Command::new("wrk")
        .args([
            format!("-t{threads}"),
            format!("-c{connections}"),
            format!("-d{seconds}s"),
            "--latency".to_owned(),
            "-s".to_owned(),
            script.display().to_string(),
            url.to_owned(),
            "--".to_owned(),
            bodies.display().to_string(),
            threads.to_string(),
        ])
        .output()
        .expect("wrk (Debian package wrk; scripts/bench.sh installs it)");
    let elapsed = started.elapsed().as_secs_f64();
    let counted = answered.load(Ordering::Relaxed) - before;
    let text = String::from_utf8_lossy(&output.stdout);
    let latency = |label: &str| {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .map_or(f64::NAN, |value| milliseconds(value.trim()))
    };
    Load {
        rate: counted as f64 / elapsed.min(seconds as f64 + 0.5),
        p50_ms: latency("50%"),
        p99_ms: latency("99%"),
    }
}

/// wrk's `123.45us`, `1.2ms`, `2.00s` in milliseconds.
fn milliseconds(text: &str) -> f64 {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        _ => f64::NAN,
    }
}

/// Raw rusqlite, the conditional payment `UPDATE` one row per commit; rows per second.
fn floor(file: &Path, name: &str, rows: usize) -> f64 {
    let connection = rusqlite::Connection::open(file).unwrap();
    connection
        .execute_batch("PRAGMA synchronous = FULL")
        .unwrap();
    let started = Instant::now();
    for n in 0..rows {
        let order_id = format!("{name}-{n}");
        let changed = connection
            .prepare_cached(
                "UPDATE xorpay_orders SET state = 'paid', revision = revision + 1, updated_unix = ?2
                 WHERE merchant = '' AND order_id = ?1 AND state = 'pending'",
            )
            .unwrap()
            .execute(rusqlite::params![order_id, 1_800_000_000])
            .unwrap();
        assert_eq!(changed, 1);
    }
    rows as f64 / started.elapsed().as_secs_f64()
}

fn paid(file: &Path) -> usize {
    rusqlite::Connection::open(file)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM xorpay_orders WHERE state = 'paid'",
            [],
            |row| row.get::<_, i64>(0),
        )
        .map(|n| usize::try_from(n).unwrap())
        .unwrap()
}

fn summary(values: &[f64]) -> (f64, f64, f64) {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    (
        values[0],
        values[values.len() / 2],
        values[values.len() - 1],
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // Measure only when asked (`cargo bench` passes `--bench`).
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let orders = env("NOTIFY_BENCH_ORDERS", 50_000);
    let seconds = env("NOTIFY_BENCH_SECONDS", 2);
    let runs = env("NOTIFY_BENCH_RUNS", 3).max(1);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("notify_http");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("bodies.lua");
    std::fs::write(&script, LUA).unwrap();
    let sandbox = Sandbox::builder()
        .secret(SECRET)
        .retry_unit(Duration::from_secs(3600))
        .build()
        .start()
        .await
        .unwrap();

    let levels = [1, 16, 64];
    // [level] -> per run: (service, bare, floor)
    let mut results: Vec<Vec<(Load, Load, f64)>> = levels.iter().map(|_| Vec::new()).collect();
    for run in 0..runs {
        for (slot, &connections) in levels.iter().enumerate() {
            let name = format!("r{run}c{connections}");
            let (payments, file, bodies) = pending(&dir, &name, &sandbox, orders).await;
            let bodies_file = dir.join(format!("{name}.bodies"));
            std::fs::write(&bodies_file, bodies.join("\n")).unwrap();
            let (url, answered) = serve(payments).await;
            let bare = wrk(
                &format!("{url}/ok"),
                &bodies_file,
                &script,
                connections,
                seconds,
                &answered,
            );
            let before = answered.load(Ordering::Relaxed);
            let service = wrk(
                &format!("{url}/notify"),
                &bodies_file,
                &script,
                connections,
                seconds,
                &answered,
            );
            let acknowledged = usize::try_from(answered.load(Ordering::Relaxed) - before).unwrap();
            // Exactly once: every distinct body answered 200 paid its order, and no order
            // was paid without one, but for the requests in flight when wrk hung up at its
            // deadline (paid and durable, their answer never sent: XorPay would retry them
            // and hear "already paid"), at most one per connection. While the bodies did not
            // wrap around.
            let paid_now = paid(&file);
            assert!(
                acknowledged >= orders
                    || (acknowledged..=acknowledged + connections).contains(&paid_now),
                "{name}: {acknowledged} acknowledged, {paid_now} paid"
            );
            assert!(paid_now <= orders);
            if acknowledged > orders {
                println!(
                    "warning: {name}: {acknowledged} answers for {orders} orders; duplicates \
                     inflate the rate (raise NOTIFY_BENCH_ORDERS)"
                );
            } else {
                println!("{name}: {acknowledged} first deliveries, each order paid once");
            }
            // The floor, measured right after on a file of its own.
            let (floor_store, floor_file, _) =
                pending(&dir, &format!("{name}f"), &sandbox, 3000).await;
            drop(floor_store);
            let floor_rate = floor(&floor_file, &format!("{name}f"), 3000);
            results[slot].push((service, bare, floor_rate));
        }
    }

    println!(
        "\nnotify endpoint over HTTP (wrk, loopback), SQLite synchronous = FULL, {orders} pending \
         orders per measurement, {seconds} s, {runs} runs; ratios min / median / max"
    );
    println!(
        "{:>5} {:>22} {:>22} {:>14} {:>16} {:>16}",
        "conns", "service vs floor", "service vs bare", "service /s", "p50/p99 ms", "bare p50/p99"
    );
    for (slot, &connections) in levels.iter().enumerate() {
        let runs = &results[slot];
        let to_floor: Vec<f64> = runs.iter().map(|(s, _, f)| s.rate / f).collect();
        let to_bare: Vec<f64> = runs.iter().map(|(s, b, _)| s.rate / b.rate).collect();
        let rates: Vec<f64> = runs.iter().map(|(s, _, _)| s.rate).collect();
        let (f0, f1, f2) = summary(&to_floor);
        let (b0, b1, b2) = summary(&to_bare);
        let (_, rate, _) = summary(&rates);
        let (_, p50, _) = summary(&runs.iter().map(|(s, _, _)| s.p50_ms).collect::<Vec<_>>());
        let (_, p99, _) = summary(&runs.iter().map(|(s, _, _)| s.p99_ms).collect::<Vec<_>>());
        let (_, bp50, _) = summary(&runs.iter().map(|(_, b, _)| b.p50_ms).collect::<Vec<_>>());
        let (_, bp99, _) = summary(&runs.iter().map(|(_, b, _)| b.p99_ms).collect::<Vec<_>>());
        println!(
            "{connections:>5} {f0:>6.2}x/{f1:.2}x/{f2:.2}x {b0:>8.3}x/{b1:.3}x/{b2:.3}x {rate:>14.0} \
             {p50:>7.2}/{p99:<7.2} {bp50:>7.2}/{bp99:<7.2}"
        );
    }
    let floors: Vec<f64> = results
        .iter()
        .flat_map(|runs| runs.iter().map(|(_, _, f)| *f))
        .collect();
    let (f0, f1, f2) = summary(&floors);
    println!("floor (raw, one row per commit): {f0:.0} / {f1:.0} / {f2:.0} rows/s");
}
