//! The database refuses a write while a payment's notification is being handled: on SQLite
//! the file cannot grow (as on a full disk), on PostgreSQL and MySQL the shop's connection is
//! killed in the middle of the statement that records the payment. The demo shop (its own
//! process, on the store its URL names) must answer XorPay 5xx with nothing acknowledged; the
//! next delivery after the database recovers pays the order once. Then the database server
//! restarts under the running shop (`XORPAY_POSTGRES_RESTART`, `XORPAY_MYSQL_RESTART`), and the
//! same process takes and records the next payment: its pools recover without a restart.
//! Last, on PostgreSQL and MySQL, the answer to the write that records a payment, alone or
//! several in one batch, is lost after the server committed it (a proxy drops it, and the
//! connection): each order is still paid, told to the hook and acknowledged once.

mod support;

use std::time::Duration;

use support::lost_answer::LostAnswer;
use support::shop_process::{free_port, start_shop, start_shop_with_file_limits, stored};
use support::{SECRET, TempDir};
use tokio::process::Child;
use xorpay_sandbox::{DeliveryState, OrderState, Sandbox};

/// A sandbox, and a shop on `database` talking to it.
struct Run {
    sandbox: Sandbox,
    shop: Child,
    url: String,
    database: String,
}

impl Run {
    async fn start(database: &str, file_limits: bool) -> Run {
        let sandbox = Sandbox::builder()
            .secret(SECRET)
            .retry_unit(Duration::from_millis(100))
            .build()
            .start()
            .await
            .unwrap();
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let shop = match file_limits {
            true => start_shop_with_file_limits(port, &url, database, &sandbox).await,
            false => start_shop(port, &url, database, &sandbox).await,
        };
        Run {
            sandbox,
            shop,
            url,
            database: database.to_owned(),
        }
    }

    /// A customer buys a cookie: the order's number and aoid.
    async fn buy(&self) -> (String, String) {
        let buyer = reqwest::Client::builder().no_proxy().build().unwrap();
        let landed = buyer
            .get(format!("{}/buy/cookie", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(landed.status(), 200, "{}", landed.url());
        let id = landed
            .url()
            .path()
            .trim_start_matches("/orders/")
            .trim_end_matches("/pay")
            .to_owned();
        let aoid = self.sandbox.order_by_order_id(&id).unwrap().aoid;
        (id, aoid)
    }

    /// Waits until XorPay has had a 5xx answer for the order, and checks that nothing was
    /// acknowledged nor recorded paid.
    async fn refused(&self, id: &str, aoid: &str) {
        let order = self
            .sandbox
            .wait_for(aoid, Duration::from_secs(30), |order| {
                order
                    .deliveries
                    .iter()
                    .any(|d| d.status.is_some_and(|s| s >= 500))
            })
            .await
            .unwrap();
        let statuses: Vec<_> = order.deliveries.iter().map(|d| d.status).collect();
        assert!(
            statuses.iter().flatten().any(|s| *s >= 500),
            "no delivery was answered 5xx: {statuses:?}"
        );
        assert!(
            !statuses.contains(&Some(200)),
            "a delivery was acknowledged while the database refused: {statuses:?}"
        );
        assert_ne!(order.delivery, DeliveryState::Acknowledged);
        let (state, ..) = stored(&self.database, id).await;
        assert_ne!(
            state, "paid",
            "{id} is recorded paid, yet XorPay was told 5xx"
        );
    }

    /// Waits until the order's payment is acknowledged, and checks that it is recorded paid
    /// at XorPay's amount, fulfilled, and delivered once.
    async fn paid_once(&self, id: &str, aoid: &str) {
        let order = self
            .sandbox
            .wait_for(aoid, Duration::from_secs(60), |order| {
                order.delivery == DeliveryState::Acknowledged
            })
            .await
            .unwrap();
        assert_eq!(order.state, OrderState::Success, "{order:?}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let (state, price, fulfilled, runs) = loop {
            let got = stored(&self.database, id).await;
            if got.2 || tokio::time::Instant::now() >= deadline {
                break got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(state, "paid", "{id}");
        assert_eq!(u64::try_from(price).unwrap(), order.price_fen, "{id}");
        assert!(fulfilled, "{id} was never recorded fulfilled");
        assert_eq!(runs, 1, "{id}: the delivery ran {runs} times");
    }
}

/// SQLite: the shop's files may not grow (`prlimit --fsize`, as a full disk refuses), then may
/// again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_full_file_refuses_the_payment_and_the_next_delivery_pays_once() {
    let dir = TempDir::new("db-faults");
    let database = format!("sqlite://{}", dir.path().join("shop.sqlite").display());
    let run = Run::start(&database, true).await;
    let (id, aoid) = run.buy().await;
    let pid = run.shop.id().unwrap().to_string();
    // The soft limit only: raising it again needs no privilege.
    let limit = |size: &str| {
        let status = std::process::Command::new("prlimit")
            .args(["--pid", &pid, &format!("--fsize={size}:")])
            .status()
            .expect("prlimit (util-linux) runs");
        assert!(status.success(), "prlimit --fsize={size} failed");
    };
    limit("1");
    run.sandbox.pay(&aoid).await.unwrap();
    run.refused(&id, &aoid).await;
    limit("unlimited");
    run.paid_once(&id, &aoid).await;
    assert!(run.shop.id().is_some(), "the shop kept running");
}

/// PostgreSQL: the order's row is locked, so that the shop's write waits on it; that
/// connection is terminated mid-statement; later the server restarts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_killed_connection_or_a_restart_refuses_the_payment_and_the_next_delivery_pays_once()
 {
    let Some(url) = support::postgres::fresh_schema_url().await else {
        return;
    };
    let name = format!("shop-{}", uuid::Uuid::new_v4().simple());
    let run = Run::start(&format!("{url}&application_name={name}"), false).await;
    let (id, aoid) = run.buy().await;

    let (mut holder, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let lock = holder.transaction().await.unwrap();
    lock.execute(
        "SELECT 1 FROM xorpay_orders WHERE order_id = $1 FOR UPDATE",
        &[&id],
    )
    .await
    .unwrap();
    run.sandbox.pay(&aoid).await.unwrap();
    // The shop's UPDATE waits on the lock: terminated there. (The payments written together
    // skip a row another writer holds; this one is then written alone, and waits.)
    let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    support::eventually("the shop's write waits on the row lock", async || {
        let killed = admin
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE application_name = $1 AND wait_event_type = 'Lock'
                   AND query LIKE '%UPDATE xorpay_orders%'",
                &[&name],
            )
            .await
            .unwrap();
        !killed.is_empty()
    })
    .await;
    lock.rollback().await.unwrap();
    run.refused(&id, &aoid).await;
    run.paid_once(&id, &aoid).await;

    // The server restarts under the running shop: every connection its pools hold is gone.
    let _restarting = SERVERS.write().await;
    if support::postgres::restart().is_some() {
        let (next, next_aoid) = run.buy().await;
        run.sandbox.pay(&next_aoid).await.unwrap();
        run.paid_once(&next, &next_aoid).await;
    }
}

/// MySQL: as for PostgreSQL, with `KILL`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_killed_connection_or_a_restart_refuses_the_payment_and_the_next_delivery_pays_once()
 {
    use mysql_async::prelude::Queryable;
    let Some(url) = support::mysql::fresh_database_url().await else {
        return;
    };
    let run = Run::start(&url, false).await;
    let (id, aoid) = run.buy().await;

    let mut holder = support::mysql::connect(&url).await;
    let mut lock = holder
        .start_transaction(mysql_async::TxOpts::default())
        .await
        .unwrap();
    lock.exec_drop(
        "SELECT 1 FROM xorpay_orders WHERE order_id = ? FOR UPDATE",
        (&id,),
    )
    .await
    .unwrap();
    run.sandbox.pay(&aoid).await.unwrap();
    let mut admin = support::mysql::connect(&url).await;
    // The shop's write is the statement on this test's database that changes an order
    // (with the other payments waiting, then alone when that batch was refused): each one
    // that waits is killed, for a tenth of a second after the first (less than XorPay's
    // first retry here).
    let mut first_kill: Option<tokio::time::Instant> = None;
    support::eventually("the shop's writes wait on the row lock", async || {
        let waiting: Vec<u64> = admin
            .query(
                "SELECT id FROM information_schema.processlist
                 WHERE db = DATABASE() AND info LIKE 'UPDATE xorpay_orders%'
                   AND id <> CONNECTION_ID()",
            )
            .await
            .unwrap();
        for id in &waiting {
            admin.query_drop(format!("KILL {id}")).await.unwrap();
        }
        if !waiting.is_empty() && first_kill.is_none() {
            first_kill = Some(tokio::time::Instant::now());
        }
        first_kill.is_some_and(|at| at.elapsed() > Duration::from_millis(100))
    })
    .await;
    lock.rollback().await.unwrap();
    run.refused(&id, &aoid).await;
    run.paid_once(&id, &aoid).await;

    // The server restarts under the running shop: every connection its pools hold is gone.
    drop((admin, holder));
    let _restarting = SERVERS.write().await;
    if support::mysql::restart().is_some() {
        let (next, next_aoid) = run.buy().await;
        run.sandbox.pay(&next_aoid).await.unwrap();
        run.paid_once(&next, &next_aoid).await;
    }
}

/// The database servers, which two tests restart while the others use them (the tests of one
/// binary run side by side): a test that needs a server running holds it shared, a restart
/// holds it alone.
static SERVERS: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// The text of the statement that records a payment, on PostgreSQL and MySQL alike.
const PAYMENT_WRITE: &[u8] = b"check_after_unix = NULL, state = 'paid'";

/// `url` with its `host:port` replaced by `address`.
fn through(url: &str, address: &str) -> String {
    let (head, rest) = url.split_once('@').unwrap();
    let (_, path) = rest.split_once('/').unwrap();
    format!("{head}@{address}/{path}")
}

/// The `host:port` of `url`.
fn server_of(url: &str) -> String {
    let (_, rest) = url.split_once('@').unwrap();
    rest.split_once('/').unwrap().0.to_owned()
}

impl Run {
    /// A shop on `url` through a proxy that loses the answer to the first message holding
    /// `cut_at` after a statement holding `armed_by`, on one connection.
    async fn losing_an_answer(
        url: &str,
        shop_url: impl Fn(String) -> String,
        armed_by: &'static [u8],
        cut_at: &'static [u8],
    ) -> (Run, LostAnswer) {
        let proxy = LostAnswer::start(&server_of(url), armed_by, cut_at).await;
        let mut run = Run::start(&shop_url(through(url, &proxy.address)), false).await;
        run.database = url.to_owned();
        (run, proxy)
    }

    /// Orders paid eight at a time, until the shop has written several in one batch and
    /// that batch's answer was lost: then every one of them is paid and acknowledged once.
    async fn recovers_from_a_lost_batch(&self, proxy: &LostAnswer) {
        let mut bought = Vec::new();
        for _ in 0..10 {
            let mut round = Vec::new();
            for _ in 0..8 {
                round.push(self.buy().await);
            }
            for (_, aoid) in &round {
                self.sandbox.pay(aoid).await.unwrap();
            }
            bought.extend(round);
            // The round's payments are written (a batch forms only when several wait).
            for (id, aoid) in &bought {
                self.paid_once(id, aoid).await;
            }
            if proxy.fired() {
                break;
            }
        }
        let mut refused = 0;
        for (id, aoid) in &bought {
            refused += usize::from(self.recovers_from(proxy, id, aoid).await);
        }
        // The batch's payments: the shop could not know they were written.
        assert!(refused >= 2, "{refused} orders were refused first");
    }

    /// After a lost answer: the order is paid, told to the hook and acknowledged once (the
    /// last delivery), and the answer was really lost. Whether XorPay was first told 5xx.
    async fn recovers_from(&self, proxy: &LostAnswer, id: &str, aoid: &str) -> bool {
        self.paid_once(id, aoid).await;
        assert!(proxy.fired(), "no answer was lost: this proves nothing");
        let order = self.sandbox.order_by_order_id(id).unwrap();
        let statuses: Vec<_> = order.deliveries.iter().map(|d| d.status).collect();
        let acknowledged: Vec<_> = statuses.iter().filter(|s| **s == Some(200)).collect();
        assert_eq!(acknowledged.len(), 1, "{statuses:?}");
        assert_eq!(statuses.last(), Some(&Some(200)), "{statuses:?}");
        statuses.iter().flatten().any(|status| *status >= 500)
    }
}

/// One payment whose write (a statement that is its own transaction) has its answer lost:
/// the shop could not know it had written, so XorPay is told 5xx first, then acknowledged.
async fn a_lost_payment_answer(url: &str, shop_url: impl Fn(String) -> String) {
    let (run, proxy) = Run::losing_an_answer(url, shop_url, PAYMENT_WRITE, b"").await;
    let (id, aoid) = run.buy().await;
    run.sandbox.pay(&aoid).await.unwrap();
    assert!(run.recovers_from(&proxy, &id, &aoid).await);
}

/// A PostgreSQL URL for the shop in the clear, so that the proxy sees the statements.
fn in_the_clear(url: String) -> String {
    format!("{url}&sslmode=disable")
}

/// PostgreSQL: the answer to the statement that records a payment (its own transaction) is
/// lost after the server committed it, as when the network drops then. The shop cannot know
/// whether it wrote; the order must still be paid and told to the hook exactly once, and
/// XorPay acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_payment_whose_commit_answer_is_lost_is_paid_once() {
    let _servers = SERVERS.read().await;
    let Some(url) = support::postgres::fresh_schema_url().await else {
        return;
    };
    a_lost_payment_answer(&url, in_the_clear).await;
}

/// MySQL: as for PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_payment_whose_commit_answer_is_lost_is_paid_once() {
    let _servers = SERVERS.read().await;
    let Some(url) = support::mysql::fresh_database_url().await else {
        return;
    };
    a_lost_payment_answer(&url, |shop| shop).await;
}

/// MySQL: several payments written in one transaction, and the answer to its `COMMIT` lost
/// after the server committed: each order is paid, told and acknowledged once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_batch_whose_commit_answer_is_lost_pays_each_once() {
    let _servers = SERVERS.read().await;
    let Some(url) = support::mysql::fresh_database_url().await else {
        return;
    };
    let (run, proxy) = Run::losing_an_answer(
        &url,
        |shop| shop,
        b"o.check_after_unix = NULL, o.state = 'paid'",
        b"COMMIT",
    )
    .await;
    run.recovers_from_a_lost_batch(&proxy).await;
}

/// PostgreSQL: several payments written in one statement (its own transaction), and its
/// answer lost after the server committed: each order is paid, told and acknowledged once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_batch_whose_commit_answer_is_lost_pays_each_once() {
    let _servers = SERVERS.read().await;
    let Some(url) = support::postgres::fresh_schema_url().await else {
        return;
    };
    let (run, proxy) = Run::losing_an_answer(&url, in_the_clear, b"FROM unnest(", b"").await;
    run.recovers_from_a_lost_batch(&proxy).await;
}
