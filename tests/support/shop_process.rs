//! The demo shop as a process of its own, talking to an in-process sandbox and storing in the
//! database a URL names: what the tests of several instances and of database faults run.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use xorpay_sandbox::Sandbox;

use super::{SECRET, example};

/// One shop process on `port`, talking to `sandbox`, storing in `database`.
pub(crate) async fn start_shop(
    port: u16,
    public_url: &str,
    database: &str,
    sandbox: &Sandbox,
) -> Child {
    launch(
        Command::new(example("shop")),
        port,
        public_url,
        database,
        sandbox,
    )
    .await
}

/// [`start_shop`], the process ignoring `SIGXFSZ`, so that a write past its file size limit
/// (`prlimit --fsize`) fails as on a full disk instead of killing it.
pub(crate) async fn start_shop_with_file_limits(
    port: u16,
    public_url: &str,
    database: &str,
    sandbox: &Sandbox,
) -> Child {
    let mut command = Command::new("sh");
    // An ignored signal stays ignored across exec; the shop is the child itself.
    command
        .arg("-c")
        .arg("trap '' XFSZ; exec \"$0\"")
        .arg(example("shop"));
    launch(command, port, public_url, database, sandbox).await
}

async fn launch(
    mut command: Command,
    port: u16,
    public_url: &str,
    database: &str,
    sandbox: &Sandbox,
) -> Child {
    let mut child = command
        .env("SHOP_ADDR", format!("127.0.0.1:{port}"))
        .env("SHOP_PUBLIC_URL", public_url)
        .env("SHOP_DATABASE_URL", database)
        .env("XORPAY_AID", sandbox.aid())
        .env("XORPAY_APP_SECRET", SECRET)
        .env("XORPAY_BASE_URL", sandbox.base_url())
        // A claim a killed instance held is taken over after 3 s, by a sweep every second.
        .env("SHOP_HOOK_LEASE_SECS", "3")
        .env("SHOP_SWEEP_SECS", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the shop example is built by cargo test");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("listening on") {
                return;
            }
        }
        panic!("the shop exited before listening");
    });
    ready.await.expect("the shop listens within 30 s");
    // Its later lines (deliveries) are read and dropped, so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

/// A port nothing listens on (yet).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What the shop's database holds for one order: its state, its price in fen, whether it is
/// recorded fulfilled, and how often the shop's delivery ran for it.
pub(crate) async fn stored(database: &str, order_id: &str) -> (String, i64, bool, i64) {
    const SQL: &str = "SELECT o.state, o.price_fen, o.fulfilled_unix IS NOT NULL,
                              CAST(COALESCE(d.runs, 0) AS BIGINT)
                       FROM xorpay_orders o LEFT JOIN shop_deliveries d USING (order_id)
                       WHERE o.order_id = ";
    if let Some(file) = database.strip_prefix("sqlite://") {
        let db = rusqlite::Connection::open(file).unwrap();
        let sql = format!("{}?1", SQL.replace("shop_deliveries", "deliveries"));
        db.query_row(&sql, [order_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .unwrap()
    } else if database.starts_with("mysql:") {
        use mysql_async::prelude::Queryable;
        let mut conn = super::mysql::connect(database).await;
        let sql = format!("{}?", SQL.replace("AS BIGINT", "AS SIGNED"));
        let row: (String, i64, bool, i64) =
            conn.exec_first(sql, (order_id,)).await.unwrap().unwrap();
        conn.disconnect().await.unwrap();
        row
    } else {
        let (client, connection) = tokio_postgres::connect(database, tokio_postgres::NoTls)
            .await
            .unwrap();
        let connection = tokio::spawn(connection);
        let row = client
            .query_one(&format!("{SQL}$1"), &[&order_id])
            .await
            .unwrap();
        let got = (row.get(0), row.get(1), row.get(2), row.get(3));
        drop(client);
        let _ = connection.await;
        got
    }
}
