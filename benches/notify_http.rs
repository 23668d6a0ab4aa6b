//! The notify endpoint over HTTP, as XorPay reaches it: axum with `Payments::router` on one
//! store, loaded by Debian's `wrk` with a Lua script that posts a distinct signed
//! notification per request, at 1, 16 and 64 connections. Beside it, in the same run: the
//! same server answering a bare `ok` on another route to the same bodies, and the database's
//! raw floor, the same conditional `UPDATE` one payment per transaction (SQLite: from one
//! connection, its one writer; a database server: from as many connections as wrk opens).
//! Rates are counted on the server (answers 200 within the run); afterwards every order is
//! checked paid exactly once.
//!
//! The store is SQLite on a file under `target/` unless `NOTIFY_BENCH_URL` names a
//! PostgreSQL or MySQL/MariaDB database (its xorpay tables are dropped). On a server, two
//! more rows: **two instances** (two services, each with its own pool, behind a loopback
//! proxy that hands connections to each in turn) and the service with a Prometheus
//! recorder installed (the `metrics` feature is compiled into every row). Durable settings
//! are checked, not assumed: SQLite `synchronous = FULL`, PostgreSQL `fsync` and
//! `synchronous_commit` on, InnoDB `innodb_flush_log_at_trx_commit = 1`. The peak resident
//! memory of the process while wrk loads the service at 64 connections is printed beside the
//! bare server's, and the cost of one fsync on the file system the store's file is on.
//!
//! `scripts/bench.sh` runs it on each store (and installs `wrk`); lines starting `MD:` are
//! its rows of `docs/performance.md`. `NOTIFY_BENCH_ORDERS` (default 80000) pending orders
//! per measurement, more than rate × duration so that every request is a first delivery (the
//! run says so, or warns), `NOTIFY_BENCH_SECONDS` (default 2), `NOTIFY_BENCH_RUNS` (default 3),
//! `NOTIFY_BENCH_CONNECTIONS` (default `1,16,64`).

// Timing ratios are measurements, not money: the workspace ban on float arithmetic is for money.
#![allow(clippy::float_arithmetic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::routing::post;
use mysql_async::prelude::Queryable;
use serde::{Deserialize, Serialize};
use xorpay::prelude::*;
use xorpay::store::{AnyStore, OrderStore, Record, RecordState};
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

/// The aoid of the `n`th order of a measurement (what the server-side copies compute too).
fn aoid(n: usize) -> String {
    format!("{n:032x}")
}

/// What the service writes as a paid order's data, for the floor to write the same bytes.
fn paid_json(n: usize) -> String {
    format!(
        r#"{{"aoid":"{}","paid_price":"1.00","pay_time":"2026-12-02T02:00:00Z","raw_pay_time":"{PAY_TIME}","transaction_id":"4200000","confirmed_by":"notification","refunds":[],"revision":0}}"#,
        aoid(n)
    )
}

/// A genuine notification body for one order.
fn body(aoid: &str, order_id: &str) -> String {
    let sign = xorpay_testkit::md5_hex(&[aoid, order_id, "1.00", PAY_TIME, SECRET]);
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

/// Where the orders are kept.
enum Db {
    /// A SQLite file per measurement, in this directory.
    Sqlite(PathBuf),
    Postgres(String),
    MySql(String),
}

impl Db {
    fn from_env(dir: &Path) -> Db {
        match std::env::var("NOTIFY_BENCH_URL") {
            Ok(url) if url.starts_with("postgres") => Db::Postgres(url),
            Ok(url) if url.starts_with("mysql") => Db::MySql(url),
            Ok(url) => panic!("NOTIFY_BENCH_URL: not a postgres:// or mysql:// URL: {url}"),
            Err(_) => Db::Sqlite(dir.to_owned()),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "SQLite",
            Db::Postgres(_) => "PostgreSQL",
            Db::MySql(_) => "MariaDB",
        }
    }

    /// The durability settings in force, checked: the run refuses to measure without them.
    async fn durability(&self) -> String {
        match self {
            Db::Sqlite(_) => "synchronous = FULL (the store sets it)".to_owned(),
            Db::Postgres(url) => {
                let client = postgres(url).await;
                let mut settings = Vec::new();
                for name in ["fsync", "synchronous_commit", "wal_sync_method"] {
                    let row = client
                        .query_one(&format!("SHOW {name}"), &[])
                        .await
                        .unwrap();
                    settings.push(format!("{name} = {}", row.get::<_, String>(0)));
                }
                assert!(
                    settings[0] == "fsync = on" && settings[1] == "synchronous_commit = on",
                    "not durable: {settings:?} (pg_virtualenv -o fsync=on)"
                );
                settings.join(", ")
            }
            Db::MySql(url) => {
                let mut conn = mysql_async::Conn::from_url(url.as_str()).await.unwrap();
                let flush: Option<(i64, i64)> = conn
                    .query_first("SELECT @@innodb_flush_log_at_trx_commit, @@sync_binlog")
                    .await
                    .unwrap();
                let (flush, binlog) = flush.unwrap();
                assert_eq!(flush, 1, "not durable: innodb_flush_log_at_trx_commit");
                format!("innodb_flush_log_at_trx_commit = {flush}, sync_binlog = {binlog}")
            }
        }
    }

    /// A store for the measurement `name`: a new file, or the server's tables dropped and
    /// made again.
    async fn fresh_store(&self, name: &str) -> (AnyStore, Option<PathBuf>) {
        match self {
            Db::Sqlite(dir) => {
                let file = dir.join(format!("{name}.sqlite"));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
                (SqliteStore::open(&file).unwrap().into(), Some(file))
            }
            Db::Postgres(url) => {
                postgres(url)
                    .await
                    .batch_execute(
                        "DROP TABLE IF EXISTS xorpay_events, xorpay_orders, xorpay_merchants,
                             xorpay_store CASCADE",
                    )
                    .await
                    .unwrap();
                (AnyStore::open(url).await.unwrap(), None)
            }
            Db::MySql(url) => {
                mysql_async::Conn::from_url(url.as_str())
                    .await
                    .unwrap()
                    .query_drop(
                        "DROP TABLE IF EXISTS xorpay_events, xorpay_orders, xorpay_merchants,
                             xorpay_store",
                    )
                    .await
                    .unwrap();
                (AnyStore::open(url).await.unwrap(), None)
            }
        }
    }

    /// Another pool on the same database: a second instance.
    async fn another_store(&self, file: Option<&Path>) -> AnyStore {
        match (self, file) {
            (Db::Sqlite(_), Some(file)) => SqliteStore::open(file).unwrap().into(),
            (Db::Postgres(url) | Db::MySql(url), _) => AnyStore::open(url).await.unwrap(),
            (Db::Sqlite(_), None) => unreachable!("a SQLite store has its file"),
        }
    }

    /// Copies the pending order `template_id` as `name-0` … `name-{orders - 1}`, each with
    /// an aoid of its own.
    async fn copy(&self, file: Option<&Path>, template_id: &str, name: &str, orders: usize) {
        match (self, file) {
            (Db::Sqlite(_), Some(file)) => {
                let store = SqliteStore::open(file).unwrap();
                let template = store.load(template_id).await.unwrap().unwrap();
                assert_eq!(template.state, RecordState::Pending);
                let template_aoid = template.aoid.clone().unwrap();
                let mut tasks = Vec::new();
                for n in 0..orders {
                    let (order_id, aoid) = (format!("{name}-{n}"), aoid(n));
                    let copy = Record {
                        order_id: order_id.clone(),
                        aoid: Some(aoid.clone()),
                        order: template.order.replace(template_id, &order_id),
                        data: template
                            .data
                            .replace(template_id, &order_id)
                            .replace(&template_aoid, &aoid),
                        ..template.clone()
                    };
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
            }
            (Db::Postgres(url), _) => {
                postgres(url)
                    .await
                    .execute(
                        "INSERT INTO xorpay_orders (merchant, order_id, state, aoid, price_fen,
                             revision, order_json, data_json, created_unix, submitted_unix,
                             expired_unix, attention, updated_unix)
                         SELECT merchant, $2 || '-' || n, state, lpad(to_hex(n), 32, '0'),
                             price_fen, revision, replace(order_json, $1, $2 || '-' || n),
                             replace(replace(data_json, $1, $2 || '-' || n), aoid,
                                     lpad(to_hex(n), 32, '0')),
                             created_unix, submitted_unix, expired_unix, attention, updated_unix
                         FROM xorpay_orders, generate_series(0, $3::bigint - 1) AS n
                         WHERE order_id = $1 AND state = 'pending'",
                        &[&template_id, &name, &(orders as i64)],
                    )
                    .await
                    .unwrap();
                // As a database that has been running: the planner knows the table's size.
                postgres(url)
                    .await
                    .batch_execute("ANALYZE xorpay_orders")
                    .await
                    .unwrap();
            }
            (Db::MySql(url), _) => {
                let mut conn = mysql_async::Conn::from_url(url.as_str()).await.unwrap();
                conn.exec_drop(
                    format!(
                        "INSERT INTO xorpay_orders (merchant, order_id, state, aoid, price_fen,
                             revision, order_json, data_json, created_unix, submitted_unix,
                             expired_unix, attention, updated_unix)
                         SELECT merchant, CONCAT(?, '-', s.seq), state,
                             LOWER(LPAD(HEX(s.seq), 32, '0')), price_fen, revision,
                             REPLACE(order_json, ?, CONCAT(?, '-', s.seq)),
                             REPLACE(REPLACE(data_json, ?, CONCAT(?, '-', s.seq)), aoid,
                                     LOWER(LPAD(HEX(s.seq), 32, '0'))),
                             created_unix, submitted_unix, expired_unix, attention, updated_unix
                         FROM xorpay_orders AS o JOIN seq_0_to_{} AS s
                         WHERE order_id = ? AND state = 'pending'",
                        orders - 1
                    ),
                    (name, template_id, name, template_id, name, template_id),
                )
                .await
                .unwrap();
                conn.query_drop("ANALYZE TABLE xorpay_orders")
                    .await
                    .unwrap();
            }
            (Db::Sqlite(_), None) => unreachable!("a SQLite store has its file"),
        }
    }

    /// How many of the measurement's orders are paid.
    async fn paid(&self, name: &str, file: Option<&Path>) -> usize {
        let pattern = format!("{name}-%");
        let count: i64 = match (self, file) {
            (Db::Sqlite(_), Some(file)) => rusqlite::Connection::open(file)
                .unwrap()
                .query_row(
                    "SELECT count(*) FROM xorpay_orders WHERE state = 'paid' AND order_id LIKE ?1",
                    [&pattern],
                    |row| row.get(0),
                )
                .unwrap(),
            (Db::Postgres(url), _) => postgres(url)
                .await
                .query_one(
                    "SELECT count(*) FROM xorpay_orders WHERE state = 'paid' AND order_id LIKE $1",
                    &[&pattern],
                )
                .await
                .unwrap()
                .get(0),
            (Db::MySql(url), _) => mysql_async::Conn::from_url(url.as_str())
                .await
                .unwrap()
                .exec_first(
                    "SELECT count(*) FROM xorpay_orders WHERE state = 'paid' AND order_id LIKE ?",
                    (pattern,),
                )
                .await
                .unwrap()
                .unwrap(),
            (Db::Sqlite(_), None) => unreachable!("a SQLite store has its file"),
        };
        usize::try_from(count).unwrap()
    }

    /// The raw floor: the payment's conditional `UPDATE`, one per transaction, on the pending
    /// orders `name-0…`, from `connections` connections (SQLite: one, its only writer) for
    /// `seconds`; payments per second.
    async fn floor(
        &self,
        name: &str,
        file: Option<&Path>,
        connections: usize,
        seconds: usize,
    ) -> f64 {
        let deadline = Instant::now() + Duration::from_secs(seconds as u64);
        let next = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        match (self, file) {
            (Db::Sqlite(_), Some(file)) => {
                let connection = rusqlite::Connection::open(file).unwrap();
                connection
                    .execute_batch("PRAGMA synchronous = FULL")
                    .unwrap();
                let mut statement = connection
                    .prepare(
                        "UPDATE xorpay_orders SET check_after_unix = NULL, state = 'paid',
                             revision = 0, data_json = ?3, attention = 0, updated_unix = ?4
                         WHERE merchant = '' AND order_id = ?1 AND price_fen = 100
                           AND state = 'pending' AND aoid = ?2",
                    )
                    .unwrap();
                while Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let changed = statement
                        .execute(rusqlite::params![
                            format!("{name}-{n}"),
                            aoid(n),
                            paid_json(n),
                            1_800_000_000
                        ])
                        .unwrap();
                    assert_eq!(changed, 1);
                }
            }
            (Db::Postgres(url), _) => {
                for _ in 0..connections {
                    let (client, next, name) =
                        (postgres(url).await, Arc::clone(&next), name.to_owned());
                    tasks.push(tokio::spawn(async move {
                        let statement = client
                            .prepare(
                                "UPDATE xorpay_orders SET state = 'paid', revision = revision + 1,
                                     updated_unix = $2
                                 WHERE merchant = '' AND order_id = $1 AND state = 'pending'",
                            )
                            .await
                            .unwrap();
                        while Instant::now() < deadline {
                            let n = next.fetch_add(1, Ordering::Relaxed);
                            let changed = client
                                .execute(&statement, &[&format!("{name}-{n}"), &1_800_000_000_i64])
                                .await
                                .unwrap();
                            assert_eq!(changed, 1);
                        }
                    }));
                }
            }
            (Db::MySql(url), _) => {
                for _ in 0..connections {
                    let mut conn = mysql_async::Conn::from_url(url.as_str()).await.unwrap();
                    let (next, name) = (Arc::clone(&next), name.to_owned());
                    tasks.push(tokio::spawn(async move {
                        while Instant::now() < deadline {
                            let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                            conn.exec_drop(
                                "UPDATE xorpay_orders SET check_after_unix = NULL, state = 'paid',
                                     revision = 0, data_json = ?, attention = FALSE,
                                     updated_unix = ?, writes = writes + 1
                                 WHERE merchant = '' AND order_id = ? AND price_fen = 100
                                   AND state = 'pending' AND aoid = ?",
                                (
                                    paid_json(n),
                                    1_800_000_000_i64,
                                    format!("{name}-{n}"),
                                    aoid(n),
                                ),
                            )
                            .await
                            .unwrap();
                            assert_eq!(conn.affected_rows(), 1);
                        }
                    }));
                }
            }
            (Db::Sqlite(_), None) => unreachable!("a SQLite store has its file"),
        }
        for task in tasks {
            task.await.unwrap();
        }
        next.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
    }
}

async fn postgres(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// A measurement's orders: `orders` pending orders, one checked out through the service
/// against the sandbox and the rest copies of its row; the service on that store, and one
/// body per order.
struct Book {
    payments: Payments<Tea>,
    file: Option<PathBuf>,
    bodies: Vec<String>,
}

async fn pending_book(db: &Db, name: &str, sandbox: &Sandbox, orders: usize) -> Book {
    let (store, file) = db.fresh_store(name).await;
    let payments = service(sandbox, store.clone());
    let template_id = format!("{name}-template");
    let tea = Tea {
        id: template_id.clone(),
        title: "乌龙茶".into(),
        total: "1.00".parse().unwrap(),
    };
    let _shown = payments.checkout(tea).await.unwrap();
    db.copy(file.as_deref(), &template_id, name, orders).await;
    let bodies = (0..orders)
        .map(|n| body(&aoid(n), &format!("{name}-{n}")))
        .collect();
    Book {
        payments,
        file,
        bodies,
    }
}

fn service(sandbox: &Sandbox, store: AnyStore) -> Payments<Tea> {
    Payments::<Tea>::builder()
        .aid(sandbox.aid())
        .secret(SECRET)
        .notify_url("http://127.0.0.1:9/notify")
        .store(store)
        .base_url(sandbox.base_url())
        .no_background()
        .build()
        .unwrap()
}

/// A server task: aborted, it stops listening and lets go of its service (and its pool).
type Server = tokio::task::JoinHandle<()>;

/// Serves `/notify` (the service) and `/ok` (a bare answer), counting 200s into `answered`.
async fn serve(payments: Payments<Tea>, answered: Arc<AtomicU64>) -> (String, Server) {
    let app = axum::Router::new()
        .merge(payments.router())
        .route("/ok", post(|_body: axum::body::Bytes| async { "ok" }))
        .layer(axum::middleware::map_response(
            move |response: axum::response::Response| {
                let counter = Arc::clone(&answered);
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
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, server)
}

/// A loopback load balancer: each connection goes to the next of `backends` in turn.
async fn proxy(backends: Vec<String>) -> (String, Server) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let addresses: Vec<String> = backends
        .iter()
        .map(|url| url.trim_start_matches("http://").to_owned())
        .collect();
    let server = tokio::spawn(async move {
        let mut turn = 0;
        loop {
            let (mut inbound, _) = listener.accept().await.unwrap();
            let address = addresses[turn % addresses.len()].clone();
            turn += 1;
            tokio::spawn(async move {
                let mut outbound = tokio::net::TcpStream::connect(address).await.unwrap();
                let _ = inbound.set_nodelay(true);
                let _ = outbound.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    (url, server)
}

const LUA: &str = r#"
local threads = 0
local all = {}
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
  all[#all + 1] = thread
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
  if index > #bodies then
    index = (index - 1) % #bodies + 1
    wrapped = true
  end
  return wrk.format(nil, nil, nil, body)
end
function done(summary, latency, requests)
  for _, thread in ipairs(all) do
    if thread:get("wrapped") then
      io.write("bodies wrapped around\n")
      return
    end
  end
end
"#;

struct Load {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// The process's largest resident set while wrk ran, in KiB.
    peak_rss_kib: u64,
    /// A wrk thread ran out of distinct bodies and sent some again.
    wrapped: bool,
}

/// The process's resident set now, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
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
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = Arc::clone(&sampling);
        std::thread::spawn(move || {
            let mut peak = rss_kib();
            while sampling.load(Ordering::Relaxed) {
                peak = peak.max(rss_kib());
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        })
    };
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
    sampling.store(false, Ordering::Relaxed);
    let peak_rss_kib = sampler.join().unwrap();
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
        peak_rss_kib,
        wrapped: text.contains("bodies wrapped around"),
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

/// One fsync'd 4 KiB write on the file system of `dir`, median of 200, in microseconds.
fn fsync_micros(dir: &Path) -> f64 {
    use std::io::Write as _;
    let path = dir.join("fsync.probe");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = [7_u8; 4096];
    let mut times: Vec<f64> = (0..200)
        .map(|_| {
            let started = Instant::now();
            file.write_all(&block).unwrap();
            file.sync_data().unwrap();
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    let _ = std::fs::remove_file(&path);
    summary(&mut times).1
}

fn file_system(dir: &Path) -> String {
    std::process::Command::new("findmnt")
        .args(["-n", "-o", "FSTYPE", "-T"])
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

/// One row of the table: a setup, measured `runs` times.
struct Row {
    label: String,
    connections: usize,
    /// Per run: (service, bare, floor).
    runs: Vec<(Load, Load, f64)>,
}

struct Bench {
    db: Db,
    sandbox: Sandbox,
    dir: PathBuf,
    script: PathBuf,
    orders: usize,
    seconds: usize,
}

impl Bench {
    /// The service (`instances` of it behind the proxy) at `connections`, its bare twin, and
    /// the floor right after on fresh orders.
    async fn measure(&self, name: &str, connections: usize, instances: usize) -> (Load, Load, f64) {
        let book = pending_book(&self.db, name, &self.sandbox, self.orders).await;
        let bodies_file = self.dir.join(format!("{name}.bodies"));
        std::fs::write(&bodies_file, book.bodies.join("\n")).unwrap();
        let answered = Arc::new(AtomicU64::new(0));
        let (mut urls, mut servers) = (Vec::new(), Vec::new());
        let (url, server) = serve(book.payments.clone(), Arc::clone(&answered)).await;
        urls.push(url);
        servers.push(server);
        for _ in 1..instances {
            let store = self.db.another_store(book.file.as_deref()).await;
            let (url, server) = serve(service(&self.sandbox, store), Arc::clone(&answered)).await;
            urls.push(url);
            servers.push(server);
        }
        let url = if instances > 1 {
            let (url, server) = proxy(urls).await;
            servers.push(server);
            url
        } else {
            urls.pop().unwrap()
        };
        let bare = wrk(
            &format!("{url}/ok"),
            &bodies_file,
            &self.script,
            connections,
            self.seconds,
            &answered,
        );
        let before = answered.load(Ordering::Relaxed);
        let service = wrk(
            &format!("{url}/notify"),
            &bodies_file,
            &self.script,
            connections,
            self.seconds,
            &answered,
        );
        let acknowledged = usize::try_from(answered.load(Ordering::Relaxed) - before).unwrap();
        // Exactly once: every distinct body answered 200 paid its order, and no order was
        // paid without one, but for the requests in flight when wrk hung up at its deadline
        // (paid and durable, their answer never sent: XorPay would retry them and hear
        // "already paid"), at most one per connection. While no wrk thread wrapped around
        // its share of the bodies (a thread can wrap before the total reaches the orders).
        let paid_now = self.db.paid(name, book.file.as_deref()).await;
        let orders = self.orders;
        assert!(
            service.wrapped || (acknowledged..=acknowledged + connections).contains(&paid_now),
            "{name}: {acknowledged} acknowledged, {paid_now} paid"
        );
        assert!(paid_now <= orders);
        if service.wrapped {
            println!(
                "warning: {name}: {acknowledged} answers for {orders} orders; duplicates \
                 inflate the rate (raise NOTIFY_BENCH_ORDERS)"
            );
        } else {
            println!("{name}: {acknowledged} first deliveries, each order paid once");
        }
        // Every pool closed before the next measurement (a server has so many connections).
        for server in servers {
            server.abort();
            let _ = server.await;
        }
        drop(book);
        // The floor, right after, on fresh pending orders, the service's pool closed.
        let floor_name = format!("{name}f");
        let Book { payments, file, .. } =
            pending_book(&self.db, &floor_name, &self.sandbox, self.orders).await;
        drop(payments);
        let floor = self
            .db
            .floor(&floor_name, file.as_deref(), connections, self.seconds)
            .await;
        // A measurement's files go with it (80,000 orders each, two per measurement).
        for name in [name, floor_name.as_str()] {
            for suffix in [".sqlite", ".sqlite-wal", ".sqlite-shm", ".bodies"] {
                let _ = std::fs::remove_file(self.dir.join(format!("{name}{suffix}")));
            }
        }
        (service, bare, floor)
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // Measure only when asked (`cargo bench` passes `--bench`).
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("notify_http");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("bodies.lua");
    std::fs::write(&script, LUA).unwrap();
    let bench = Bench {
        db: Db::from_env(&dir),
        sandbox: Sandbox::builder()
            .secret(SECRET)
            .retry_unit(Duration::from_secs(3600))
            .build()
            .start()
            .await
            .unwrap(),
        dir: dir.clone(),
        script,
        orders: env("NOTIFY_BENCH_ORDERS", 80_000),
        seconds: env("NOTIFY_BENCH_SECONDS", 2),
    };
    let runs = env("NOTIFY_BENCH_RUNS", 3).max(1);
    let durability = bench.db.durability().await;
    let server = !matches!(bench.db, Db::Sqlite(_));

    let levels: Vec<usize> = std::env::var("NOTIFY_BENCH_CONNECTIONS")
        .unwrap_or_else(|_| "1,16,64".to_owned())
        .split(',')
        .map(|level| {
            level
                .trim()
                .parse()
                .expect("NOTIFY_BENCH_CONNECTIONS: numbers")
        })
        .collect();
    let mut rows: Vec<Row> = levels
        .into_iter()
        .map(|connections| Row {
            label: "one instance".to_owned(),
            connections,
            runs: Vec::new(),
        })
        .collect();
    if server {
        rows.push(Row {
            label: "two instances, one database, a loopback proxy".to_owned(),
            connections: 64,
            runs: Vec::new(),
        });
    }
    for run in 0..runs {
        for row in &mut rows {
            let instances = if row.label.starts_with("two") { 2 } else { 1 };
            let name = format!("r{run}c{}i{instances}", row.connections);
            row.runs
                .push(bench.measure(&name, row.connections, instances).await);
        }
    }
    // Last, once the rows without one are measured: the facade has one recorder per process.
    let _recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("no recorder yet");
    let mut metered = Row {
        label: "one instance, Prometheus recorder installed".to_owned(),
        connections: 64,
        runs: Vec::new(),
    };
    for run in 0..runs {
        metered
            .runs
            .push(bench.measure(&format!("r{run}m"), 64, 1).await);
    }
    rows.push(metered);

    let store_dir = match &bench.db {
        Db::Sqlite(dir) => dir.clone(),
        // The servers' data directories are on the machine's one disk, as target/ is.
        Db::Postgres(_) | Db::MySql(_) => dir.clone(),
    };
    let fsync = fsync_micros(&store_dir);
    let fs = file_system(&store_dir);
    let db = bench.db.name();
    println!(
        "\nnotify endpoint over HTTP (wrk, loopback), {db} ({durability}), {} pending orders \
         per measurement, {} s, {runs} runs; {fs}, one fsync'd 4 KiB write {fsync:.0} us; \
         ratios min / median / max",
        bench.orders, bench.seconds
    );
    println!("MD: ### {db}");
    println!("MD:");
    println!(
        "MD: {durability}; {fs}, one fsync'd 4 KiB write {fsync:.0} µs. Floor: raw `UPDATE`, \
         one payment per transaction, {}.",
        if server {
            "from as many connections as wrk opens"
        } else {
            "from SQLite's one writer connection"
        }
    );
    println!("MD:");
    println!(
        "MD: | setup | conns | service / floor | service / bare `ok` | service /s | floor /s | p50 / p99 ms | peak RSS service / bare |"
    );
    println!("MD: |---|---|---|---|---|---|---|---|");
    for row in &rows {
        let mut to_floor: Vec<f64> = row.runs.iter().map(|(s, _, f)| s.rate / f).collect();
        let mut to_bare: Vec<f64> = row.runs.iter().map(|(s, b, _)| s.rate / b.rate).collect();
        let mut rates: Vec<f64> = row.runs.iter().map(|(s, _, _)| s.rate).collect();
        let mut floors: Vec<f64> = row.runs.iter().map(|(_, _, f)| *f).collect();
        let mut p50: Vec<f64> = row.runs.iter().map(|(s, _, _)| s.p50_ms).collect();
        let mut p99: Vec<f64> = row.runs.iter().map(|(s, _, _)| s.p99_ms).collect();
        let mut rss: Vec<f64> = row
            .runs
            .iter()
            .map(|(s, _, _)| s.peak_rss_kib as f64)
            .collect();
        let mut bare_rss: Vec<f64> = row
            .runs
            .iter()
            .map(|(_, b, _)| b.peak_rss_kib as f64)
            .collect();
        let (f0, f1, f2) = summary(&mut to_floor);
        let (b0, b1, b2) = summary(&mut to_bare);
        let (_, rate, _) = summary(&mut rates);
        let (_, floor, _) = summary(&mut floors);
        let (_, p50, _) = summary(&mut p50);
        let (_, p99, _) = summary(&mut p99);
        let (_, rss, _) = summary(&mut rss);
        let (_, bare_rss, _) = summary(&mut bare_rss);
        println!(
            "{:<48} {:>3} conns: vs floor {f0:.2}x/{f1:.2}x/{f2:.2}x, vs bare {b0:.3}x/{b1:.3}x/{b2:.3}x, \
             {rate:.0}/s (floor {floor:.0}/s), p50/p99 {p50:.2}/{p99:.2} ms, peak RSS {:.1}/{:.1} MiB",
            row.label,
            row.connections,
            rss / 1024.0,
            bare_rss / 1024.0
        );
        println!(
            "MD: | {} | {} | **{f1:.2}×** ({f0:.2}–{f2:.2}) | {b1:.3}× | {rate:.0} | {floor:.0} | {p50:.2} / {p99:.2} | {:.1} / {:.1} MiB |",
            row.label,
            row.connections,
            rss / 1024.0,
            bare_rss / 1024.0
        );
    }
    println!("MD:");
}
