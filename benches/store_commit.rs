//! The SQLite store's payment write (`Pending → Paid`, the conditional `UPDATE` a notification
//! makes) against its floors, side by side in one run on one file system: raw rusqlite
//! committing one row per transaction (the one-fsync-per-payment floor) and 32 rows per
//! transaction (the ceiling batching can approach), then `SqliteStore::change` from 1, 16
//! and 64 concurrent callers, whose writes the store's writer commits together. Every order
//! is checked paid exactly once afterwards. `synchronous = FULL` throughout.
//!
//! `cargo bench --bench store_commit` (or `scripts/bench.sh`); `STORE_BENCH_ORDERS` sets the
//! orders per measurement (default 3000), `STORE_BENCH_RUNS` the repetitions (default 3).

// Timing ratios are measurements, not money: the workspace ban on float arithmetic is for money.
#![allow(clippy::float_arithmetic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use xorpay::SqliteStore;
use xorpay::store::{AoidCondition, Change, OrderStore, Record, RecordState, Transition};
use xorpay::time::OffsetDateTime;

const PRICE_FEN: u64 = 1250;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn aoid(n: usize) -> String {
    format!("{n:032x}")
}

fn order_id(n: usize) -> String {
    format!("bench-{n}")
}

fn record(n: usize) -> Record {
    Record {
        order_id: order_id(n),
        state: RecordState::Pending,
        aoid: Some(aoid(n)),
        price_fen: PRICE_FEN,
        revision: 0,
        order: format!(r#"{{"id":"bench-{n}","title":"乌龙茶","total":"12.50"}}"#),
        data: "{}".to_owned(),
        created_at: OffsetDateTime::now_utc(),
        submitted_at: Some(OffsetDateTime::now_utc()),
        expired_at: None,
        fulfilled_at: None,
        attention: false,
    }
}

/// A fresh store file holding `orders` pending orders.
async fn pending_store(dir: &Path, name: &str, orders: usize) -> (SqliteStore, PathBuf) {
    let file = dir.join(format!("{name}.sqlite"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let store = SqliteStore::open(&file).unwrap();
    let records: Vec<Record> = (0..orders).map(record).collect();
    for chunk in records.chunks(512) {
        let mut tasks = Vec::new();
        for record in chunk {
            let (store, record) = (store.clone(), record.clone());
            tasks.push(tokio::spawn(async move { store.insert(&record).await }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
    }
    (store, file)
}

const RAW_UPDATE: &str = "UPDATE xorpay_orders SET state = 'paid', revision = revision + 1,
        data_json = '{\"paid\":true}', updated_unix = ?3
    WHERE merchant = '' AND order_id = ?1 AND price_fen = 1250 AND state = 'pending'
      AND aoid = ?2
    RETURNING order_json";

/// Raw rusqlite, `per_transaction` rows per commit; rows per second.
fn raw(file: &Path, orders: usize, per_transaction: usize) -> f64 {
    let connection = rusqlite::Connection::open(file).unwrap();
    connection
        .execute_batch("PRAGMA synchronous = FULL")
        .unwrap();
    let started = Instant::now();
    let mut paid = 0;
    for chunk in (0..orders).collect::<Vec<_>>().chunks(per_transaction) {
        connection.execute_batch("BEGIN IMMEDIATE").unwrap();
        for &n in chunk {
            let mut statement = connection.prepare_cached(RAW_UPDATE).unwrap();
            let rows: Vec<String> = statement
                .query_map(
                    rusqlite::params![order_id(n), aoid(n), 1_800_000_000],
                    |row| row.get(0),
                )
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            paid += rows.len();
        }
        connection.execute_batch("COMMIT").unwrap();
    }
    let rate = orders as f64 / started.elapsed().as_secs_f64();
    assert_eq!(paid, orders, "raw: every order paid once");
    rate
}

/// `SqliteStore::change` from `callers` concurrent tasks; rows per second.
async fn library(store: &SqliteStore, orders: usize, callers: usize) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let paid = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (store, next, paid) = (store.clone(), Arc::clone(&next), Arc::clone(&paid));
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= orders {
                        break;
                    }
                    let (id, aoid) = (order_id(n), aoid(n));
                    let change = Change {
                        order_id: &id,
                        from: &[RecordState::Pending],
                        price_fen: PRICE_FEN,
                        aoid: AoidCondition::Is(&aoid),
                        revision: None,
                        to: RecordState::Paid,
                        new_aoid: None,
                        new_revision: 1,
                        data: r#"{"paid":true}"#,
                        submitted_at: None,
                        expired_at: None,
                        attention: false,
                        events: &[],
                        at: OffsetDateTime::now_utc(),
                    };
                    if store.change(&change).await.unwrap() == Transition::Applied {
                        paid.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let rate = orders as f64 / started.elapsed().as_secs_f64();
    assert_eq!(
        paid.load(Ordering::Relaxed),
        orders,
        "every order paid once"
    );
    rate
}

fn file_system(dir: &Path) -> String {
    std::process::Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(dir)
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map_or_else(|| "unknown".to_owned(), |text| text.trim().to_owned())
}

fn summary(values: &mut [f64]) -> (f64, f64, f64) {
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
    let orders = env("STORE_BENCH_ORDERS", 3000);
    let runs = env("STORE_BENCH_RUNS", 3).max(1);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("store_commit");
    std::fs::create_dir_all(&dir).unwrap();

    let names = [
        "raw, 1 row per commit (floor)",
        "raw, 32 rows per commit",
        "SqliteStore, 1 caller",
        "SqliteStore, 16 callers",
        "SqliteStore, 64 callers",
    ];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for _ in 0..runs {
        let (store, file) = pending_store(&dir, "raw1", orders).await;
        drop(store);
        rates[0].push(raw(&file, orders, 1));
        let (store, file) = pending_store(&dir, "raw32", orders).await;
        drop(store);
        rates[1].push(raw(&file, orders, 32));
        for (slot, callers) in [(2, 1), (3, 16), (4, 64)] {
            let (store, _) = pending_store(&dir, &format!("store{callers}"), orders).await;
            rates[slot].push(library(&store, orders, callers).await);
        }
    }
    let floor: Vec<f64> = rates[0].clone();
    println!(
        "\nPending -> Paid on a SQLite file, synchronous = FULL, {} ({orders} orders x {runs} runs)",
        file_system(&dir)
    );
    let (_, floor_median, _) = summary(&mut floor.clone());
    println!(
        "one fsync'd commit: {:.0} us (median, from the floor)",
        1e6 / floor_median
    );
    println!(
        "{:34} {:>10} {:>10} {:>10}   ratio to the floor (min / median / max, run by run)",
        "", "rows/s min", "median", "max"
    );
    for (name, values) in names.iter().zip(&rates) {
        let mut ratios: Vec<f64> = values.iter().zip(&floor).map(|(v, f)| v / f).collect();
        let (min, median, max) = summary(&mut values.clone());
        let (rmin, rmedian, rmax) = summary(&mut ratios);
        println!(
            "{name:34} {min:>10.0} {median:>10.0} {max:>10.0}   {rmin:.2}x / {rmedian:.2}x / {rmax:.2}x"
        );
        println!(
            "MD: | the SQLite store's payment write alone: {name} | raw rusqlite, one row per commit ({:.0}/s) | **{rmedian:.2}×** ({rmin:.2}–{rmax:.2}), {median:.0}/s |",
            floor_median
        );
    }
}
