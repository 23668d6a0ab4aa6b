//! Four habits of MySQL and MariaDB that make a straightforward store double-pay or give a
//! wrong answer. Each test first runs the naive statement on the test server and shows it
//! going wrong, then shows `MySqlStore` answering right (see `xorpay-core/src/store/mysql.rs`
//! for how it avoids each).

mod support;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, TxOpts};
use xorpay::store::{
    AoidCondition, Change, Claim, MySqlStore, OrderStore, Record, RecordState, Transition,
};
use xorpay::time::OffsetDateTime;

fn record(id: &str, state: RecordState) -> Record {
    let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    Record {
        order_id: id.to_owned(),
        state,
        aoid: None,
        price_fen: 1250,
        revision: 0,
        order: format!(r#"{{"id":"{id}"}}"#),
        data: "null".to_owned(),
        created_at: at,
        submitted_at: None,
        expired_at: None,
        fulfilled_at: None,
        attention: false,
    }
}

fn change<'a>(id: &'a str, from: &'a [RecordState], to: RecordState) -> Change<'a> {
    Change {
        order_id: id,
        from,
        price_fen: 1250,
        aoid: AoidCondition::Any,
        revision: None,
        to,
        new_aoid: None,
        new_revision: 0,
        data: r#"{"changed":true}"#,
        submitted_at: None,
        expired_at: None,
        attention: false,
        events: &[],
        at: OffsetDateTime::from_unix_timestamp(1_800_000_100).unwrap(),
    }
}

/// A store on a database of its own, and a connection of the test's own to it, counting
/// changed rows as MySQL does by default.
async fn setup() -> Option<(MySqlStore, Conn)> {
    let url = support::mysql::fresh_database_url().await?;
    let url = support::mysql::with_found_rows(&url, false);
    let store = MySqlStore::connect(&url).await.unwrap();
    Some((store, support::mysql::connect(&url).await))
}

/// Flagging an order already flagged changes nothing in the row: counting changed rows, the
/// naive `UPDATE` reports 0, which reads as "the order was not as expected". The store's
/// answer is "applied", with the driver counting either way.
#[tokio::test]
async fn an_update_that_leaves_the_row_as_it_was_is_still_applied() {
    let Some((store, mut conn)) = setup().await else {
        return;
    };
    store
        .insert(&record("flag-1", RecordState::Paid))
        .await
        .unwrap();
    let naive = "UPDATE xorpay_orders SET attention = TRUE WHERE order_id = 'flag-1' \
                 AND state = 'paid'";
    conn.query_drop(naive).await.unwrap();
    assert_eq!(conn.affected_rows(), 1);
    conn.query_drop(naive).await.unwrap();
    assert_eq!(
        conn.affected_rows(),
        0,
        "the naive statement's second flag reads as refused"
    );

    let paid = [RecordState::Paid];
    let mut flag = change("flag-1", &paid, RecordState::Paid);
    flag.attention = true;
    flag.data = "null";
    assert_eq!(store.change(&flag).await.unwrap(), Transition::Applied);
    assert_eq!(store.change(&flag).await.unwrap(), Transition::Applied);
}

/// Two notifications for one order handled at once, each reading the order as pending and
/// then writing it paid: under REPEATABLE READ both writes go through, and the order is paid
/// twice (two fulfilments). The store's change carries its condition in the `UPDATE`, so the
/// second is refused.
#[tokio::test]
async fn a_state_read_before_the_write_pays_twice_a_guard_in_the_where_once() {
    let Some((store, mut one)) = setup().await else {
        return;
    };
    for id in ["naive-1", "store-1"] {
        store
            .insert(&record(id, RecordState::Pending))
            .await
            .unwrap();
    }
    let mut two = support::mysql::connect(&database_url(&mut one).await).await;

    // The naive way: read, decide in the program, write by key.
    let mut first = one.start_transaction(TxOpts::default()).await.unwrap();
    let mut second = two.start_transaction(TxOpts::default()).await.unwrap();
    let read = "SELECT state FROM xorpay_orders WHERE order_id = 'naive-1'";
    let seen_first: Option<String> = first.query_first(read).await.unwrap();
    let seen_second: Option<String> = second.query_first(read).await.unwrap();
    assert_eq!(seen_first.as_deref(), Some("pending"));
    assert_eq!(seen_second.as_deref(), Some("pending"));
    // Each handler writes what it learned (its own data) by key, having seen "pending".
    let write = |data: &str| {
        format!(
            "UPDATE xorpay_orders SET state = 'paid', data_json = '{data}' WHERE order_id = 'naive-1'"
        )
    };
    first.query_drop(write("first")).await.unwrap();
    let first_applied = first.affected_rows() == 1;
    first.commit().await.unwrap();
    second.query_drop(write("second")).await.unwrap();
    let second_applied = second.affected_rows() == 1;
    second.commit().await.unwrap();
    assert!(
        first_applied && second_applied,
        "both handlers' writes applied: each goes on to fulfil, and the first's data is lost"
    );

    // The store: both changes made from the same reading (pending), one after the other.
    let pending = [RecordState::Pending];
    let pay = change("store-1", &pending, RecordState::Paid);
    let (a, b) = tokio::join!(store.change(&pay), store.change(&pay));
    let applied = [a.unwrap(), b.unwrap()]
        .iter()
        .filter(|t| **t == Transition::Applied)
        .count();
    assert_eq!(applied, 1, "exactly one of two concurrent payments applies");
}

/// The URL of the database `conn` is on, from the test server's URL.
async fn database_url(conn: &mut Conn) -> String {
    let database: Option<String> = conn.query_first("SELECT DATABASE()").await.unwrap();
    let url = support::mysql::url().unwrap();
    let (server, query) = match url.split_once('?') {
        Some((server, query)) => (server.to_owned(), format!("?{query}")),
        None => (url.clone(), String::new()),
    };
    let server = server.rsplit_once('/').map_or(server.as_str(), |(s, _)| s);
    format!("{server}/{}{query}", database.unwrap())
}

/// With the server's default collation, order numbers that differ only in case or in a
/// trailing space are one key: the second order is refused as a duplicate (or, looked up,
/// found as the first). The store keeps them apart.
#[tokio::test]
async fn order_numbers_differing_in_case_or_a_trailing_space_are_two_orders() {
    let Some((store, mut conn)) = setup().await else {
        return;
    };
    conn.query_drop("CREATE TABLE naive_orders (order_id VARCHAR(64) PRIMARY KEY)")
        .await
        .unwrap();
    conn.query_drop("INSERT INTO naive_orders VALUES ('A-1'), ('b-1')")
        .await
        .unwrap();
    for twin in ["a-1", "b-1 "] {
        let refused = conn
            .exec_drop("INSERT INTO naive_orders VALUES (?)", (twin,))
            .await;
        assert!(
            refused.is_err(),
            "the naive table took {twin:?} as a new key"
        );
    }

    let ids = ["A-1", "a-1", "a-1 ", "b-1", "b-1 "];
    for (n, id) in ids.iter().enumerate() {
        let mut order = record(id, RecordState::Created);
        order.price_fen = 100 + n as u64;
        store.insert(&order).await.unwrap();
    }
    for (n, id) in ids.iter().enumerate() {
        let stored = store.load(id).await.unwrap().unwrap();
        assert_eq!(
            (stored.order_id.as_str(), stored.price_fen),
            (*id, 100 + n as u64)
        );
    }
    assert!(store.load("A-1 ").await.unwrap().is_none());
}

/// PostgreSQL claims rows and returns them in one `UPDATE … RETURNING`; MariaDB 10.11 has no
/// `RETURNING` on `UPDATE` (and MySQL none at all). The store claims under a token and reads
/// the claimed rows back by it.
#[tokio::test]
async fn claims_work_without_returning() {
    let Some((store, mut conn)) = setup().await else {
        return;
    };
    for id in ["r-1", "r-2"] {
        store.insert(&record(id, RecordState::Paid)).await.unwrap();
    }
    let returning = conn
        .query_drop(
            "UPDATE xorpay_orders SET claim_token = 'naive' WHERE state = 'paid'
             RETURNING order_id",
        )
        .await;
    assert!(returning.is_err(), "this server has UPDATE … RETURNING");

    let claim = Claim {
        order_id: None,
        token: "t-1",
        lease: std::time::Duration::from_secs(60),
        limit: 10,
    };
    let claimed = store.claim(&claim).await.unwrap();
    let ids: Vec<&str> = claimed.iter().map(|r| r.order_id.as_str()).collect();
    assert_eq!(ids, ["r-1", "r-2"]);
    assert!(
        store
            .claim(&Claim {
                token: "t-2",
                ..claim
            })
            .await
            .unwrap()
            .is_empty()
    );
}
