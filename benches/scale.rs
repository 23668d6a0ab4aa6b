//! How the store work behind the background sweep grows with the order book: the reads and
//! claims of a reconciliation pass, the attention list, the fulfilment sweep, the hook's
//! events and the gauges' tally, over books of 10,000, 100,000 and 1,000,000 closed orders
//! with the same few orders needing work (20 of each kind), and one closed order in a hundred
//! whose hook keeps failing: paid but not fulfilled, with an event not told either, both held
//! under a lease of an hour (so not due: a claim must not look at them). The cost must follow
//! the orders
//! that need work, not the size of the book: each figure is given as a ratio of the smallest
//! book's. Each book is measured in a process of its own, so its peak memory (VmHWM) is its
//! own too, and once the database has settled after writing it (analysed; on PostgreSQL also
//! vacuumed and checkpointed, the checkpoint needing a superuser or `pg_checkpoint`).
//!
//! `cargo bench --bench scale` (SQLite); with `SCALE_BENCH_URL=postgres://…` or `mysql://…`,
//! on that database (its xorpay tables are dropped). `SCALE_BENCH_SIZES` sets the books
//! (default `10000,100000,1000000`), `SCALE_BENCH_ROUNDS` the rounds per figure (default 200:
//! at 50, a MariaDB figure of a third of a millisecond moved by 2× between runs).

// Timing ratios are measurements, not money: the workspace ban on float arithmetic is for money.
#![allow(clippy::float_arithmetic)]

use std::path::Path;
use std::time::{Duration, Instant};

use xorpay::SqliteStore;
use xorpay::store::{Claim, EventClaim, OrderStore};
use xorpay::time::OffsetDateTime;

/// Orders of each kind that need work, whatever the size of the book.
const DUE: usize = 20;
/// One closed order in this many is paid and not fulfilled, with an event not told: its hook
/// keeps failing, and both are held under a lease.
const HELD_EVERY: usize = 100;

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
    let on = env("SCALE_BENCH_URL")
        .and_then(|url| url.split_once(':').map(|(scheme, _)| scheme.to_owned()))
        .unwrap_or_else(|| "sqlite".to_owned());
    println!("store work per call over a book of N closed orders, {DUE} of each kind due ({on})");
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
    let store = match on.as_str() {
        "postgres" | "postgresql" => "PostgreSQL",
        "mysql" => "MariaDB",
        _ => "SQLite",
    };
    let last = rows.last().unwrap_or(base);
    println!("MD: #### {store}");
    println!("MD:");
    let sizes: Vec<String> = rows
        .iter()
        .map(|book| format!("{} orders", book.size))
        .collect();
    println!(
        "MD: | call | {} | {} / {} |",
        sizes.join(" | "),
        last.size,
        base.size
    );
    println!("MD: |---|{}---|", "---|".repeat(rows.len()));
    for (slot, (name, base_micros)) in base.figures.iter().enumerate() {
        let cells: Vec<String> = rows
            .iter()
            .map(|book| format!("{:.2} ms", book.figures[slot].1 / 1000.0))
            .collect();
        println!(
            "MD: | `{name}` | {} | **{:.2}×** |",
            cells.join(" | "),
            last.figures[slot].1 / base_micros
        );
    }
    let cells: Vec<String> = rows
        .iter()
        .map(|book| format!("{:.1} MiB", book.peak_kib as f64 / 1024.0))
        .collect();
    println!(
        "MD: | peak memory (VmHWM) | {} | **{:.2}×** |",
        cells.join(" | "),
        last.peak_kib as f64 / base.peak_kib as f64
    );
    println!("MD:");
}

/// Builds a book of `size` orders and prints the figures of each call: in a SQLite file, or
/// in the database `SCALE_BENCH_URL` names (`postgres://…`, `mysql://…`), whose xorpay tables
/// are dropped first.
fn one_book(size: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let now = OffsetDateTime::now_utc();
    runtime.block_on(async {
        match env("SCALE_BENCH_URL") {
            Some(url) if url.starts_with("postgres") => {
                let client = server::postgres_fresh(&url).await;
                let store = xorpay::PgStore::connect(&url).await.unwrap();
                server::postgres_fill(&client, size, now.unix_timestamp()).await;
                measure(store, now).await;
            }
            Some(url) => {
                let mut conn = server::mysql_fresh(&url).await;
                let store = xorpay::MySqlStore::connect(&url).await.unwrap();
                server::mysql_fill(&mut conn, size, now.unix_timestamp()).await;
                measure(store, now).await;
            }
            None => {
                let dir = std::env::temp_dir()
                    .join(format!("xorpay-scale-{}-{size}", std::process::id()));
                std::fs::create_dir_all(&dir).unwrap();
                let file = dir.join("book.sqlite");
                // The store makes its schema; the book is written straight into it, in bulk.
                drop(SqliteStore::open(&file).unwrap());
                fill(&file, size, now.unix_timestamp());
                measure(SqliteStore::open(&file).unwrap(), now).await;
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
    });
    println!("peak_kib={}", peak_kib());
}

/// Times each call on `store` and prints its figures.
async fn measure(store: impl OrderStore, now: OffsetDateTime) {
    let rounds: usize = env("SCALE_BENCH_ROUNDS")
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(200);
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
/// done event each; one in `HELD_EVERY` paid, not fulfilled and held, with an event held),
/// and `DUE` of each kind that needs work: stale pending, expired within the grace window,
/// paid and not fulfilled, flagged for a person, and an event due.
fn fill(file: &Path, size: usize, now: i64) {
    let mut db = rusqlite::Connection::open(file).unwrap();
    let tx = db.transaction().unwrap();
    {
        let mut order = tx
            .prepare(
                "INSERT INTO xorpay_orders (merchant, order_id, state, aoid, price_fen, revision,
                     order_json, data_json, created_unix, submitted_unix, expired_unix,
                     fulfilled_unix, attention, updated_unix, claimed_until_ms)
                 VALUES ('', ?1, ?2, ?3, 1250, 0, '{}', '{}', ?4, ?4, ?5, ?6, ?7, ?4, ?8)",
            )
            .unwrap();
        let mut event = tx
            .prepare(
                "INSERT INTO xorpay_events (merchant, order_id, kind, subject, due_unix, done_unix)
                 VALUES ('', ?1, ?2, '', ?3, ?4)",
            )
            .unwrap();
        let mut held = tx
            .prepare(
                "INSERT INTO xorpay_events (merchant, order_id, kind, subject, due_unix,
                     claimed_until_ms)
                 VALUES ('', ?1, 'refund_made', 'k', ?2, ?3)",
            )
            .unwrap();
        let month = 30 * 24 * 3600;
        for n in 0..size {
            let id = format!("closed-{n}");
            let held_until = (n % HELD_EVERY == 0).then_some((now + 3600) * 1000);
            let (state, expired, fulfilled) = match n % 2 {
                0 if held_until.is_some() => ("paid", None, None),
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
                    false,
                    held_until
                ])
                .unwrap();
            event
                .execute(rusqlite::params![id, "expired", now - month, now - month])
                .unwrap();
            if let Some(until) = held_until {
                held.execute(rusqlite::params![id, now - month, until])
                    .unwrap();
            }
        }
        for row in due_rows(now) {
            order
                .execute(rusqlite::params![
                    row.id,
                    row.state,
                    row.aoid,
                    now - 3 * 3600,
                    row.expired,
                    row.fulfilled,
                    row.attention,
                    None::<i64>
                ])
                .unwrap();
        }
        for n in 0..DUE {
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

/// The orders needing work: stale pending, expired within the grace window, paid and not
/// fulfilled, flagged for a person; `DUE` of each.
fn due_rows(now: i64) -> Vec<Row<'static>> {
    let month = 30 * 24 * 3600;
    let mut rows = Vec::new();
    for n in 0..DUE {
        let row = |id: &str, state, expired, fulfilled, attention| Row {
            id: format!("{id}-{n}"),
            state,
            aoid: format!("{:0>32}", format!("{id}{n}")),
            expired,
            fulfilled,
            attention,
        };
        rows.push(row("stale", "pending", None, None, false));
        rows.push(row("grace", "expired", Some(now - 7200), None, false));
        rows.push(row("unfulfilled", "paid", None, None, false));
        rows.push(row("flagged", "paid", None, Some(now - month), true));
    }
    rows
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

/// Books on a database server, written in bulk by the server itself.
mod server {
    use mysql_async::prelude::Queryable;

    use super::DUE;

    const MONTH: i64 = 30 * 24 * 3600;

    /// A client on `url`, its xorpay tables dropped.
    pub(super) async fn postgres_fresh(url: &str) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(
                "DROP TABLE IF EXISTS xorpay_events, xorpay_orders, xorpay_merchants,
                     xorpay_store CASCADE",
            )
            .await
            .unwrap();
        client
    }

    /// The same book as SQLite's, from `generate_series`.
    pub(super) async fn postgres_fill(client: &tokio_postgres::Client, size: usize, now: i64) {
        let (size, old) = (i64::try_from(size).unwrap(), now - MONTH);
        client
            .execute(
                "INSERT INTO xorpay_orders (merchant, order_id, state, aoid, price_fen, revision,
                     order_json, data_json, created_unix, submitted_unix, expired_unix,
                     fulfilled_unix, attention, updated_unix, claimed_until)
                 SELECT '', 'closed-' || n,
                     CASE WHEN n % 2 = 0 THEN 'paid' ELSE 'expired' END,
                     lpad(to_hex(n), 32, '0'), 1250, 0, '{}', '{}', $1::bigint, $1::bigint,
                     CASE WHEN n % 2 = 1 THEN $1::bigint END,
                     CASE WHEN n % 2 = 0 AND n % $3::bigint <> 0 THEN $1::bigint END, false,
                     $1::bigint,
                     CASE WHEN n % $3::bigint = 0 THEN now() + interval '1 hour' END
                 FROM generate_series(0, $2::bigint - 1) AS n",
                &[&old, &size, &(super::HELD_EVERY as i64)],
            )
            .await
            .unwrap();
        client
            .execute(
                "INSERT INTO xorpay_events (merchant, order_id, kind, subject, due_unix, done_unix)
                 SELECT '', 'closed-' || n, 'expired', '', $1::bigint, $1::bigint
                 FROM generate_series(0, $2::bigint - 1) AS n",
                &[&old, &size],
            )
            .await
            .unwrap();
        client
            .execute(
                "INSERT INTO xorpay_events (merchant, order_id, kind, subject, due_unix,
                     claimed_until)
                 SELECT '', 'closed-' || n, 'refund_made', 'k', $1::bigint,
                     now() + interval '1 hour'
                 FROM generate_series(0, $2::bigint - 1, $3::bigint) AS n",
                &[&old, &size, &(super::HELD_EVERY as i64)],
            )
            .await
            .unwrap();
        for row in super::due_rows(now) {
            client
                .execute(
                    "INSERT INTO xorpay_orders (merchant, order_id, state, aoid, price_fen,
                         revision, order_json, data_json, created_unix, submitted_unix,
                         expired_unix, fulfilled_unix, attention, updated_unix)
                     VALUES ('', $1, $2, $7, 1250, 0, '{}', '{}', $3, $3, $4, $5, $6, $3)",
                    &[
                        &row.id,
                        &row.state,
                        &(now - 3 * 3600),
                        &row.expired,
                        &row.fulfilled,
                        &row.attention,
                        &row.aoid,
                    ],
                )
                .await
                .unwrap();
        }
        for n in 0..DUE {
            client
                .execute(
                    "INSERT INTO xorpay_events (merchant, order_id, kind, subject, due_unix)
                     VALUES ('', $1, 'refund_in_doubt', '', $2)",
                    &[&format!("flagged-{n}"), &(now - 60)],
                )
                .await
                .unwrap();
        }
        // Vacuumed and checkpointed as well as analysed: a million rows written at once leave
        // the database writing them back (a checkpoint, autovacuum) for a while after, which
        // a book that grew over months has long done. Without it, one `scripts/bench.sh`
        // run's event claims (two commits each) read 2.06× the small book's at a million
        // orders, where runs of this bench alone read 0.85-1.17×.
        client
            .batch_execute("VACUUM (ANALYZE) xorpay_orders, xorpay_events")
            .await
            .unwrap();
        // A superuser's or `pg_checkpoint`'s right (pg_virtualenv's user has it).
        if let Err(error) = client.batch_execute("CHECKPOINT").await {
            eprintln!("measuring without a checkpoint first: {error}");
        }
    }

    /// A connection on `url`, its xorpay tables dropped.
    pub(super) async fn mysql_fresh(url: &str) -> mysql_async::Conn {
        let mut conn = mysql_async::Conn::from_url(url).await.unwrap();
        conn.query_drop(
            "DROP TABLE IF EXISTS xorpay_events, xorpay_orders, xorpay_merchants, xorpay_store",
        )
        .await
        .unwrap();
        conn
    }

    /// The same book as SQLite's, from MariaDB's sequence engine.
    pub(super) async fn mysql_fill(conn: &mut mysql_async::Conn, size: usize, now: i64) {
        let old = now - MONTH;
        let last = size - 1;
        conn.exec_drop(
            format!(
                "INSERT INTO xorpay_orders (merchant, order_id, state, aoid, price_fen, revision,
                     order_json, data_json, created_unix, submitted_unix, expired_unix,
                     fulfilled_unix, attention, updated_unix, claimed_until_ms)
                 SELECT '', CONCAT('closed-', seq),
                     IF(seq % 2 = 0, 'paid', 'expired'), LPAD(HEX(seq), 32, '0'), 1250, 0,
                     '{{}}', '{{}}', ?, ?, IF(seq % 2 = 1, ?, NULL),
                     IF(seq % 2 = 0 AND seq % {step} <> 0, ?, NULL), FALSE, ?,
                     IF(seq % {step} = 0, (UNIX_TIMESTAMP() + 3600) * 1000, NULL)
                 FROM seq_0_to_{last}",
                step = super::HELD_EVERY
            ),
            (old, old, old, old, old),
        )
        .await
        .unwrap();
        conn.exec_drop(
            format!(
                "INSERT INTO xorpay_events (merchant, order_id, kind, subject, due_unix, done_unix)
                 SELECT '', CONCAT('closed-', seq), 'expired', '', ?, ? FROM seq_0_to_{last}"
            ),
            (old, old),
        )
        .await
        .unwrap();
        conn.exec_drop(
            format!(
                "INSERT INTO xorpay_events (merchant, order_id, kind, subject, due_unix,
                     claimed_until_ms)
                 SELECT '', CONCAT('closed-', seq), 'refund_made', 'k', ?,
                     (UNIX_TIMESTAMP() + 3600) * 1000
                 FROM seq_0_to_{last}_step_{step}",
                step = super::HELD_EVERY
            ),
            (old,),
        )
        .await
        .unwrap();
        for row in super::due_rows(now) {
            conn.exec_drop(
                "INSERT INTO xorpay_orders (merchant, order_id, state, aoid, price_fen, revision,
                     order_json, data_json, created_unix, submitted_unix, expired_unix,
                     fulfilled_unix, attention, updated_unix)
                 VALUES ('', ?, ?, ?, 1250, 0, '{}', '{}', ?, ?, ?, ?, ?, ?)",
                mysql_async::Params::Positional(vec![
                    row.id.into(),
                    row.state.into(),
                    row.aoid.into(),
                    (now - 3 * 3600).into(),
                    (now - 3 * 3600).into(),
                    row.expired.into(),
                    row.fulfilled.into(),
                    row.attention.into(),
                    (now - 3 * 3600).into(),
                ]),
            )
            .await
            .unwrap();
        }
        for n in 0..DUE {
            conn.exec_drop(
                "INSERT INTO xorpay_events (merchant, order_id, kind, subject, due_unix)
                 VALUES ('', ?, 'refund_in_doubt', '', ?)",
                (format!("flagged-{n}"), now - 60),
            )
            .await
            .unwrap();
        }
        conn.query_drop("ANALYZE TABLE xorpay_orders, xorpay_events")
            .await
            .unwrap();
    }
}
