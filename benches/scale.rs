//! How the store work behind the background sweep grows with the order book: the reads and
//! claims of a reconciliation pass, the attention list, the fulfilment sweep, the hook's
//! events and the gauges' tally, over books of 10,000, 100,000 and 1,000,000 closed orders
//! with the same few orders needing work (20 of each kind). The cost must follow the orders
//! that need work, not the size of the book: each figure is given as a ratio of the smallest
//! book's. Each book is measured in a process of its own, so its peak memory (VmHWM) is its
//! own too.
//!
//! `cargo bench --bench scale` (SQLite). `SCALE_BENCH_SIZES` sets the books (default
//! `10000,100000,1000000`), `SCALE_BENCH_ROUNDS` the rounds per figure (default 50).

// Timing ratios are measurements, not money: the workspace ban on float arithmetic is for money.
#![allow(clippy::float_arithmetic)]

use std::path::Path;
use std::time::{Duration, Instant};

use xorpay::SqliteStore;
use xorpay::store::{Claim, EventClaim, OrderStore};
use xorpay::time::OffsetDateTime;

/// Orders of each kind that need work, whatever the size of the book.
const DUE: usize = 20;

/// One book's figures: its size, each call's microseconds, its peak memory in KiB.
struct Book {
    size: usize,
    figures: Vec<(String, f64)>,
    peak_kib: u64,
}

/// One order written straight into the book: number, state, aoid, expired, fulfilled,
/// flagged.
struct Row<'a> {
    id: String,
    state: &'a str,
    aoid: String,
    expired: Option<i64>,
    fulfilled: Option<i64>,
    attention: bool,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn main() {
    // Cargo passes `--bench`; the child runs one book and prints its figures.
    if let Some(size) = env("SCALE_BENCH_ONE") {
        let size = size.parse().expect("a number of orders");
        one_book(size);
        return;
    }
    let sizes: Vec<usize> = env("SCALE_BENCH_SIZES")
        .unwrap_or_else(|| "10000,100000,1000000".to_owned())
        .split(',')
        .map(|size| size.trim().parse().expect("a number of orders"))
        .collect();
    println!("store work per call over a book of N closed orders, {DUE} of each kind due (SQLite)");
    let mut rows: Vec<Book> = Vec::new();
    for size in &sizes {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .env("SCALE_BENCH_ONE", size.to_string())
            .output()
            .expect("the bench runs itself");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8_lossy(&output.stdout);
        let mut figures = Vec::new();
        let mut peak = 0;
        for line in text.lines() {
            match line.split_once('=') {
                Some(("peak_kib", kib)) => peak = kib.parse().unwrap(),
                Some((name, micros)) => figures.push((name.to_owned(), micros.parse().unwrap())),
                None => {}
            }
        }
        rows.push(Book {
            size: *size,
            figures,
            peak_kib: peak,
        });
    }
    let base = &rows[0];
    println!(
        "{:>10} {:<28} {:>12} {:>8}",
        "orders", "call", "µs per call", "ratio"
    );
    for book in &rows {
        let size = book.size;
        for ((name, micros), (_, base_micros)) in book.figures.iter().zip(&base.figures) {
            println!(
                "{size:>10} {name:<28} {micros:>12.1} {:>7.2}×",
                micros / base_micros
            );
        }
        println!(
            "{size:>10} {:<28} {:>9} KiB {:>7.2}×",
            "peak memory (VmHWM)",
            book.peak_kib,
            book.peak_kib as f64 / base.peak_kib as f64
        );
    }
    println!("(ratios against the book of {} orders)", base.size);
}

/// Builds a book of `size` orders and prints the figures of each call.
fn one_book(size: usize) {
    let dir = std::env::temp_dir().join(format!("xorpay-scale-{}-{size}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("book.sqlite");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let now = OffsetDateTime::now_utc();
    runtime.block_on(async {
        // The store makes its schema; the book is written straight into it, in bulk.
        drop(SqliteStore::open(&file).unwrap());
        fill(&file, size, now.unix_timestamp());
        let store = SqliteStore::open(&file).unwrap();
        let rounds: usize = env("SCALE_BENCH_ROUNDS")
            .and_then(|rounds| rounds.parse().ok())
            .unwrap_or(50);
        let hour = xorpay::time::Duration::hours(1);
        let figures = [
            (
                "reconcile: due_for_check",
                time(rounds, async || {
                    let due = store
                        .due_for_check(now, now - hour, now - hour * 24, 200)
                        .await
                        .unwrap();
                    assert_eq!(due.len(), 2 * DUE, "stale pending and expired in grace");
                })
                .await,
            ),
            (
                "attention list",
                time(rounds, async || {
                    let listed = store.needing_attention(100).await.unwrap();
                    assert_eq!(listed.len(), DUE);
                })
                .await,
            ),
            (
                "fulfilment: claim + release",
                time(rounds, async || {
                    let claim = Claim {
                        order_id: None,
                        token: "bench",
                        lease: Duration::from_secs(60),
                        limit: 1,
                    };
                    let claimed = store.claim(&claim).await.unwrap();
                    assert_eq!(claimed.len(), 1);
                    store
                        .release_claim(&claimed[0].order_id, "bench", Duration::ZERO)
                        .await
                        .unwrap();
                })
                .await,
            ),
            (
                "events: claim + release",
                time(rounds, async || {
                    let claim = EventClaim {
                        now,
                        token: "bench",
                        lease: Duration::from_secs(60),
                    };
                    let event = store.claim_event(&claim).await.unwrap().unwrap();
                    store
                        .release_event(&event, "bench", Duration::ZERO)
                        .await
                        .unwrap();
                })
                .await,
            ),
            (
                "gauges: tally",
                time(rounds, async || {
                    let tally = store.tally().await.unwrap();
                    assert_eq!(tally.pending, DUE as u64);
                })
                .await,
            ),
        ];
        for (name, micros) in figures {
            println!("{name}={micros}");
        }
    });
    println!("peak_kib={}", peak_kib());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Microseconds per call of `call`, over `rounds` calls after one to warm the cache.
async fn time(rounds: usize, mut call: impl AsyncFnMut()) -> f64 {
    call().await;
    let started = Instant::now();
    for _ in 0..rounds {
        call().await;
    }
    started.elapsed().as_secs_f64() * 1e6 / rounds as f64
}

/// Writes the book: `size` closed orders (paid and fulfilled, or expired a month ago, with a
/// done event each), and `DUE` of each kind that needs work: stale pending, expired within
/// the grace window, paid and not fulfilled, flagged for a person, and an event due.
fn fill(file: &Path, size: usize, now: i64) {
    let mut db = rusqlite::Connection::open(file).unwrap();
    let tx = db.transaction().unwrap();
    {
        let mut order = tx
            .prepare(
                "INSERT INTO xorpay_orders (merchant, order_id, state, aoid, price_fen, revision,
                     order_json, data_json, created_unix, submitted_unix, expired_unix,
                     fulfilled_unix, attention, updated_unix)
                 VALUES ('', ?1, ?2, ?3, 1250, 0, '{}', '{}', ?4, ?4, ?5, ?6, ?7, ?4)",
            )
            .unwrap();
        let mut event = tx
            .prepare(
                "INSERT INTO xorpay_events (merchant, order_id, kind, subject, due_unix, done_unix)
                 VALUES ('', ?1, ?2, '', ?3, ?4)",
            )
            .unwrap();
        let month = 30 * 24 * 3600;
        for n in 0..size {
            let id = format!("closed-{n}");
            let (state, expired, fulfilled) = match n % 2 {
                0 => ("paid", None, Some(now - month)),
                _ => ("expired", Some(now - month), None),
            };
            order
                .execute(rusqlite::params![
                    id,
                    state,
                    format!("{n:032x}"),
                    now - month,
                    expired,
                    fulfilled,
                    false
                ])
                .unwrap();
            event
                .execute(rusqlite::params![id, "expired", now - month, now - month])
                .unwrap();
        }
        for n in 0..DUE {
            let aoid = |kind: &str| format!("{kind}{n:029x}");
            let rows = [
                Row {
                    id: format!("stale-{n}"),
                    state: "pending",
                    aoid: aoid("sta"),
                    expired: None,
                    fulfilled: None,
                    attention: false,
                },
                Row {
                    id: format!("grace-{n}"),
                    state: "expired",
                    aoid: aoid("gra"),
                    expired: Some(now - 3600 * 2),
                    fulfilled: None,
                    attention: false,
                },
                Row {
                    id: format!("unfulfilled-{n}"),
                    state: "paid",
                    aoid: aoid("unf"),
                    expired: None,
                    fulfilled: None,
                    attention: false,
                },
                Row {
                    id: format!("flagged-{n}"),
                    state: "paid",
                    aoid: aoid("fla"),
                    expired: None,
                    fulfilled: Some(now - month),
                    attention: true,
                },
            ];
            for row in rows {
                order
                    .execute(rusqlite::params![
                        row.id,
                        row.state,
                        row.aoid,
                        now - 3 * 3600,
                        row.expired,
                        row.fulfilled,
                        row.attention
                    ])
                    .unwrap();
            }
            event
                .execute(rusqlite::params![
                    format!("flagged-{n}"),
                    "refund_in_doubt",
                    now - 60,
                    None::<i64>
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    db.execute_batch("ANALYZE").unwrap();
}

/// The process's peak resident memory, in KiB (Linux's VmHWM).
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
