//! The order store contract (`xorpay::store`), as a suite any store must pass: inserts,
//! every conditional change and every refusal, the compare-and-set on a paid order's
//! revision, reconciliation candidates, paging, fulfilment claims with their leases, merchants
//! kept apart, and two processes on one database. Each test is generic over the store and
//! runs against `SqliteStore`, `PgStore` and `MySqlStore` (the last twice: its driver counting
//! changed rows, then matched rows; see `support/postgres.rs` and `support/mysql.rs` for how
//! the databases are found); then come the tests of what each store refuses to open: a file or database of
//! another program, of a newer release, or of an unreleased version before 0.1.0.

mod support;

use std::time::Duration;

use support::TempDir;
use xorpay::store::{
    AoidCondition, Change, Claim, EventRecord, OrderStore, Record, RecordState, SqliteStore,
    StoreError, Tally, Transition,
};
use xorpay::time::OffsetDateTime;

const AOID: &str = "e19c8c8673ba42419043fc92b99303c1";

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000 + seconds).unwrap()
}

fn record(id: &str, created: i64) -> Record {
    Record {
        order_id: id.to_owned(),
        state: RecordState::Created,
        aoid: None,
        price_fen: 1250,
        revision: 0,
        order: format!(r#"{{"id":"{id}"}}"#),
        data: "null".to_owned(),
        created_at: at(created),
        submitted_at: None,
        expired_at: None,
        fulfilled_at: None,
        attention: false,
    }
}

/// A change from `from` to `to`, with the defaults every test starts from.
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
        at: at(100),
    }
}

struct Stores {
    _dir: TempDir,
    file: std::path::PathBuf,
}

impl Stores {
    fn new() -> Stores {
        let dir = TempDir::new("store");
        let file = dir.path().join("orders.sqlite");
        Stores { _dir: dir, file }
    }

    fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.file).unwrap()
    }
}

async fn inserts_are_durable_and_unique(store: impl OrderStore) {
    store.insert(&record("a", 0)).await.unwrap();
    assert!(matches!(
        store.insert(&record("a", 1)).await,
        Err(StoreError::Duplicate(id)) if id == "a"
    ));
    assert_eq!(store.load("a").await.unwrap(), Some(record("a", 0)));
    assert_eq!(store.load("nope").await.unwrap(), None);
}

async fn changes_apply_only_to_the_row_they_expect(store: impl OrderStore) {
    store.insert(&record("a", 0)).await.unwrap();
    let pending = [RecordState::Created];
    // Wrong state, wrong price: refused, nothing changes.
    let wrong_state = change("a", &[RecordState::Pending], RecordState::Paid);
    assert_eq!(
        store.change(&wrong_state).await.unwrap(),
        Transition::NotApplied
    );
    let mut wrong_price = change("a", &pending, RecordState::Pending);
    wrong_price.price_fen = 1;
    assert_eq!(
        store.change(&wrong_price).await.unwrap(),
        Transition::NotApplied
    );
    assert_eq!(store.load("a").await.unwrap(), Some(record("a", 0)));
    // Applied: the new values stay.
    let mut to_pending = change("a", &pending, RecordState::Pending);
    to_pending.new_aoid = Some(AOID);
    to_pending.submitted_at = Some(at(5));
    assert_eq!(
        store.change(&to_pending).await.unwrap(),
        Transition::Applied
    );
    let now = store.load("a").await.unwrap().unwrap();
    assert_eq!(now.state, RecordState::Pending);
    assert_eq!(now.aoid.as_deref(), Some(AOID));
    assert_eq!(now.submitted_at, Some(at(5)));
    assert_eq!(now.data, r#"{"changed":true}"#);
    // Once: the same change does not apply twice.
    assert_eq!(
        store.change(&to_pending).await.unwrap(),
        Transition::NotApplied
    );

    // The aoid conditions.
    let from = [RecordState::Pending];
    let mut other = change("a", &from, RecordState::Paid);
    other.aoid = AoidCondition::Is("ffffffffffffffffffffffffffffffff");
    assert_eq!(store.change(&other).await.unwrap(), Transition::NotApplied);
    other.aoid = AoidCondition::UnknownOr("ffffffffffffffffffffffffffffffff");
    assert_eq!(store.change(&other).await.unwrap(), Transition::NotApplied);
    let mut same = change("a", &from, RecordState::Paid);
    same.aoid = AoidCondition::Is(AOID);
    assert_eq!(store.change(&same).await.unwrap(), Transition::Applied);
    // An unknown aoid satisfies UnknownOr, never Is.
    store.insert(&record("b", 1)).await.unwrap();
    let created = [RecordState::Created];
    let mut strict = change("b", &created, RecordState::Paid);
    strict.aoid = AoidCondition::Is(AOID);
    assert_eq!(store.change(&strict).await.unwrap(), Transition::NotApplied);
    strict.aoid = AoidCondition::UnknownOr(AOID);
    assert_eq!(store.change(&strict).await.unwrap(), Transition::Applied);
    // A change that names no aoid keeps the stored one.
    let paid = [RecordState::Paid];
    let keep = change("a", &paid, RecordState::Paid);
    assert_eq!(store.change(&keep).await.unwrap(), Transition::Applied);
    assert_eq!(
        store.load("a").await.unwrap().unwrap().aoid.as_deref(),
        Some(AOID)
    );
}

/// An aoid names one order: a change or an insert giving a second order an aoid the store
/// already holds is refused with `AoidTaken`, and nothing is written (a re-cut notification
/// cannot move one order's aoid onto another). Another merchant may hold the same aoid.
async fn an_aoid_belongs_to_one_order<S: Scoped>(store: S) {
    store.insert(&record("a", 0)).await.unwrap();
    store.insert(&record("b", 1)).await.unwrap();
    let created = [RecordState::Created];
    let mut first = change("a", &created, RecordState::Pending);
    first.new_aoid = Some(AOID);
    assert_eq!(store.change(&first).await.unwrap(), Transition::Applied);
    let mut second = change("b", &created, RecordState::Paid);
    second.new_aoid = Some(AOID);
    assert!(matches!(
        store.change(&second).await,
        Err(StoreError::AoidTaken { aoid }) if aoid == AOID
    ));
    assert_eq!(store.load("b").await.unwrap(), Some(record("b", 1)));
    let mut taken = record("c", 2);
    taken.aoid = Some(AOID.to_owned());
    assert!(matches!(
        store.insert(&taken).await,
        Err(StoreError::AoidTaken { .. })
    ));
    assert_eq!(store.load("c").await.unwrap(), None);
    // Changes that keep the order's own aoid still apply.
    let mut again = change("a", &[RecordState::Pending], RecordState::Paid);
    again.new_aoid = Some(AOID);
    assert_eq!(store.change(&again).await.unwrap(), Transition::Applied);
    // Another merchant's books are its own.
    let other = store.scoped("another-shop");
    other.insert(&taken).await.unwrap();
}

/// Issue 9, point 1. Two copies read at revision 0: Y saves revision 1; X, which changed
/// more than once since its reading, must not overwrite Y's save. (On the first version the
/// store applied a save over any *older* revision, and X's went through.)
async fn a_copy_changed_twice_since_its_load_cannot_overwrite_a_newer_save(store: impl OrderStore) {
    let mut paid = record("cas-1", 0);
    paid.state = RecordState::Paid;
    paid.aoid = Some(AOID.to_owned());
    store.insert(&paid).await.unwrap();
    let from = [RecordState::Paid];
    let save = |revision, data| {
        let mut save = change("cas-1", &from, RecordState::Paid);
        save.revision = Some(revision);
        save.new_revision = revision + 1;
        save.data = data;
        save
    };
    // Y, read at 0, saves its refund in doubt: revision 1.
    assert_eq!(
        store.change(&save(0, "y")).await.unwrap(),
        Transition::Applied
    );
    // X, read at 0 too, changed twice since: its save, over revision 0, is refused.
    let mut x = save(0, "x");
    x.new_revision = 2;
    assert_eq!(store.change(&x).await.unwrap(), Transition::NotApplied);
    // Y, read back at 1, saves again: applied.
    assert_eq!(
        store.change(&save(1, "y2")).await.unwrap(),
        Transition::Applied
    );
    let now = store.load("cas-1").await.unwrap().unwrap();
    assert_eq!((now.revision, now.data.as_str()), (2, "y2"));
}

async fn reconciliation_sees_only_what_is_due(store: impl OrderStore) {
    store.insert(&record("created", 0)).await.unwrap();
    store.insert(&record("pending", 0)).await.unwrap();
    store.insert(&record("expired", 0)).await.unwrap();
    store.insert(&record("fresh", 90)).await.unwrap();
    let mut to_pending = change("pending", &[RecordState::Created], RecordState::Pending);
    to_pending.submitted_at = Some(at(10));
    assert_eq!(
        store.change(&to_pending).await.unwrap(),
        Transition::Applied
    );
    let mut to_expired = change("expired", &[RecordState::Created], RecordState::Expired);
    to_expired.expired_at = Some(at(50));
    assert_eq!(
        store.change(&to_expired).await.unwrap(),
        Transition::Applied
    );

    let ids = |records: Vec<Record>| {
        let mut ids: Vec<String> = records.into_iter().map(|r| r.order_id).collect();
        ids.sort();
        ids
    };
    // Stale before 60, expired since 40.
    let due = store
        .due_for_check(at(100), at(60), at(40), 10)
        .await
        .unwrap();
    assert_eq!(ids(due), ["created", "expired", "pending"]);
    // Expired only since 60: the expired one is out of the window.
    let due = store
        .due_for_check(at(100), at(60), at(60), 10)
        .await
        .unwrap();
    assert_eq!(ids(due), ["created", "pending"]);
    // Out of the window, but flagged for a person (XorPay said fee_error): still asked about,
    // whatever its expiry.
    store.insert(&record("flagged", 0)).await.unwrap();
    let mut flagged = change("flagged", &[RecordState::Created], RecordState::Expired);
    flagged.expired_at = Some(at(20));
    flagged.attention = true;
    assert_eq!(store.change(&flagged).await.unwrap(), Transition::Applied);
    let due = store
        .due_for_check(at(100), at(60), at(60), 10)
        .await
        .unwrap();
    assert_eq!(ids(due), ["created", "flagged", "pending"]);
    let mut unflagged = change("flagged", &[RecordState::Expired], RecordState::Expired);
    unflagged.revision = None;
    assert_eq!(store.change(&unflagged).await.unwrap(), Transition::Applied);
    // Checked and left open: out until the time set, then back.
    store.check_again_at("pending", at(200)).await.unwrap();
    let due = store
        .due_for_check(at(100), at(60), at(60), 10)
        .await
        .unwrap();
    assert_eq!(ids(due), ["created"]);
    let due = store
        .due_for_check(at(200), at(60), at(60), 10)
        .await
        .unwrap();
    assert_eq!(ids(due), ["created", "pending"]);
    // A change of state clears it.
    store.check_again_at("created", at(900)).await.unwrap();
    let moved = change("created", &[RecordState::Created], RecordState::Pending);
    assert_eq!(store.change(&moved).await.unwrap(), Transition::Applied);
    let moved = change("created", &[RecordState::Pending], RecordState::Created);
    assert_eq!(store.change(&moved).await.unwrap(), Transition::Applied);
    let due = store
        .due_for_check(at(100), at(60), at(60), 1)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
}

/// A change whose new values are the row's own (flagging an order for attention twice) is
/// applied: the answer is whether the row was as expected, not whether a value changed
/// (drivers that count only changed rows must not be trusted for it).
async fn a_change_that_leaves_the_row_as_it_was_is_applied(store: impl OrderStore) {
    store.insert(&record("same", 0)).await.unwrap();
    let created = [RecordState::Created];
    let mut flag = change("same", &created, RecordState::Created);
    flag.attention = true;
    assert_eq!(store.change(&flag).await.unwrap(), Transition::Applied);
    let once = store.load("same").await.unwrap().unwrap();
    assert_eq!(store.change(&flag).await.unwrap(), Transition::Applied);
    assert_eq!(store.load("same").await.unwrap().unwrap(), once);
}

async fn recent_and_attention_lists(store: impl OrderStore) {
    for (n, id) in ["c", "a", "b"].into_iter().enumerate() {
        let mut r = record(id, i64::try_from(n).unwrap());
        r.attention = id == "b";
        store.insert(&r).await.unwrap();
    }
    let recent = store.recent(2).await.unwrap();
    assert_eq!(
        recent
            .iter()
            .map(|r| r.order_id.as_str())
            .collect::<Vec<_>>(),
        ["b", "a"]
    );
    let attention = store.needing_attention(10).await.unwrap();
    assert_eq!(
        attention
            .iter()
            .map(|r| r.order_id.as_str())
            .collect::<Vec<_>>(),
        ["b"]
    );
}

/// The gauges' counts: pending orders and the longest-pending one's submission time, orders
/// needing attention and the paid ones among them that know their aoid; other states and
/// other merchants are not counted.
async fn the_tally_counts_pending_and_attention<S: Scoped>(store: S) {
    assert_eq!(store.tally().await.unwrap(), Tally::default());
    // Another merchant's orders, in every counted state.
    let other = store.scoped("another-merchant");
    other.insert(&record("p1", 0)).await.unwrap();
    let mut theirs = change("p1", &[RecordState::Created], RecordState::Pending);
    theirs.submitted_at = Some(at(1));
    theirs.attention = true;
    assert_eq!(other.change(&theirs).await.unwrap(), Transition::Applied);
    for (n, id) in ["p1", "p2", "p3", "x"].into_iter().enumerate() {
        store
            .insert(&record(id, i64::try_from(n).unwrap()))
            .await
            .unwrap();
    }
    for (id, submitted) in [("p1", 30), ("p2", 10), ("p3", 20)] {
        let mut to_pending = change(id, &[RecordState::Created], RecordState::Pending);
        to_pending.submitted_at = Some(at(submitted));
        to_pending.attention = id == "p3";
        assert_eq!(
            store.change(&to_pending).await.unwrap(),
            Transition::Applied
        );
    }
    let mut expired = change("x", &[RecordState::Created], RecordState::Expired);
    expired.attention = true;
    assert_eq!(store.change(&expired).await.unwrap(), Transition::Applied);
    assert_eq!(
        store.tally().await.unwrap(),
        Tally::new(3, Some(at(10)), 2, 0)
    );
    let paid = change("p2", &[RecordState::Pending], RecordState::Paid);
    assert_eq!(store.change(&paid).await.unwrap(), Transition::Applied);
    assert_eq!(
        store.tally().await.unwrap(),
        Tally::new(2, Some(at(20)), 2, 0)
    );
    // Paid and flagged: counted apart only once its aoid is known.
    let mut flagged = change("p2", &[RecordState::Paid], RecordState::Paid);
    flagged.attention = true;
    assert_eq!(store.change(&flagged).await.unwrap(), Transition::Applied);
    assert_eq!(
        store.tally().await.unwrap(),
        Tally::new(2, Some(at(20)), 3, 0)
    );
    flagged.new_aoid = Some(AOID);
    assert_eq!(store.change(&flagged).await.unwrap(), Transition::Applied);
    assert_eq!(
        store.tally().await.unwrap(),
        Tally::new(2, Some(at(20)), 3, 1)
    );
}

/// The hook's events: written with the change that carries them and only if it applies, once
/// per order, kind and subject; claimed when due, one claimer at a time until the lease ends;
/// recorded done only by the claim's token; released for a while; one merchant's never seen
/// by another.
async fn events_are_recorded_with_their_change_and_claimed_once<S: Scoped>(store: S) {
    use xorpay::store::{EventClaim, NewEvent};
    let claim = |now: i64, token: &'static str, lease_ms: u64| EventClaim {
        now: at(now),
        token,
        lease: Duration::from_millis(lease_ms),
    };
    store.insert(&record("e", 0)).await.unwrap();
    let events = [
        NewEvent {
            kind: "refund_made",
            subject: "k-1",
            due: at(50),
        },
        NewEvent {
            kind: "expired",
            subject: "",
            due: at(200),
        },
    ];
    // A change that does not apply records nothing.
    let mut refused = change("e", &[RecordState::Paid], RecordState::Expired);
    refused.events = &events;
    assert_eq!(
        store.change(&refused).await.unwrap(),
        Transition::NotApplied
    );
    assert_eq!(
        store.claim_event(&claim(1000, "t0", 60_000)).await.unwrap(),
        None
    );
    // One that applies records its events; the same events again are kept as they were.
    let mut applied = change("e", &[RecordState::Created], RecordState::Pending);
    applied.events = &events;
    assert_eq!(store.change(&applied).await.unwrap(), Transition::Applied);
    let mut again = change("e", &[RecordState::Pending], RecordState::Pending);
    again.events = &events[..1];
    assert_eq!(store.change(&again).await.unwrap(), Transition::Applied);
    // Another merchant sees none of them.
    let other = store.scoped("another-merchant");
    assert_eq!(
        other
            .claim_event(&claim(1000, "t-x", 60_000))
            .await
            .unwrap(),
        None
    );

    // Not due yet: nothing. Due: the earliest first, once.
    assert_eq!(
        store.claim_event(&claim(40, "t1", 60_000)).await.unwrap(),
        None
    );
    let first = store
        .claim_event(&claim(60, "t1", 60_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            first.order_id.as_str(),
            first.kind.as_str(),
            first.subject.as_str(),
            first.due
        ),
        ("e", "refund_made", "k-1", at(50))
    );
    assert_eq!(
        store.claim_event(&claim(60, "t2", 60_000)).await.unwrap(),
        None
    );
    // Only its claimer records it done.
    assert_eq!(
        store.finish_event(&first, "t2", at(61)).await.unwrap(),
        Transition::NotApplied
    );
    assert_eq!(
        store.finish_event(&first, "t1", at(61)).await.unwrap(),
        Transition::Applied
    );
    assert_eq!(
        store.finish_event(&first, "t1", at(61)).await.unwrap(),
        Transition::NotApplied
    );
    // A short lease ends: the claim passes to another claimer, and the first one's token no
    // longer records it.
    let second = store
        .claim_event(&claim(300, "t3", 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.kind, "expired");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let taken = store
        .claim_event(&claim(300, "t4", 60_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken, second);
    assert_eq!(
        store.finish_event(&second, "t3", at(301)).await.unwrap(),
        Transition::NotApplied
    );
    // Released after a failure: nobody takes it until the wait is over.
    store
        .release_event(&taken, "t4", Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(
        store.claim_event(&claim(300, "t5", 60_000)).await.unwrap(),
        None
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let retried = store
        .claim_event(&claim(300, "t5", 60_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(retried, second);
    assert_eq!(
        store.finish_event(&retried, "t5", at(302)).await.unwrap(),
        Transition::Applied
    );
    assert_eq!(
        store.claim_event(&claim(10_000, "t6", 1)).await.unwrap(),
        None
    );
}

/// A claim passes over events held under a lease, however many, and takes the earliest due
/// of the rest, whether never claimed or released before: a held event whose lease has ended
/// comes back in its place by due time, ahead of later ones never claimed.
async fn held_events_are_passed_over_and_come_back_in_due_order<S: Scoped>(store: S) {
    use xorpay::store::{EventClaim, NewEvent};
    let claim = |token: &'static str, lease_ms: u64| EventClaim {
        now: at(1_000),
        token,
        lease: Duration::from_millis(lease_ms),
    };
    for (id, due) in [("h1", 10), ("h2", 20), ("h3", 30), ("h4", 40)] {
        let events = [NewEvent {
            kind: "expired",
            subject: "",
            due: at(due),
        }];
        let mut applied = change(id, &[RecordState::Created], RecordState::Pending);
        applied.events = &events;
        store.insert(&record(id, 0)).await.unwrap();
        assert_eq!(store.change(&applied).await.unwrap(), Transition::Applied);
    }
    let order_of = |event: Option<EventRecord>| event.map(|event| event.order_id);
    // Their hooks fail: h1 is released for a second, h2 for a minute, h3 at once.
    for (failed, wait) in [("h1", 1_000), ("h2", 60_000), ("h3", 0)] {
        let event = store.claim_event(&claim("t1", 60_000)).await.unwrap();
        assert_eq!(order_of(event.clone()).as_deref(), Some(failed));
        store
            .release_event(&event.unwrap(), "t1", Duration::from_millis(wait))
            .await
            .unwrap();
    }
    // h3 again (released, due 30) before h4 (never claimed, due 40); then nothing while h1
    // and h2 are held.
    for next in ["h3", "h4"] {
        let event = store.claim_event(&claim("t2", 60_000)).await.unwrap();
        assert_eq!(order_of(event).as_deref(), Some(next));
    }
    assert_eq!(store.claim_event(&claim("t2", 60_000)).await.unwrap(), None);
    // h1's wait ends: it is taken again, and h2 is still held.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let event = store.claim_event(&claim("t3", 60_000)).await.unwrap();
    assert_eq!(order_of(event).as_deref(), Some("h1"));
    assert_eq!(store.claim_event(&claim("t3", 60_000)).await.unwrap(), None);
}

/// A lease too long for the database's date arithmetic (`Duration::MAX`) still claims, and
/// holds: an event and an order claimed for it are not claimed again.
async fn a_lease_of_forever_claims_and_holds<S: Scoped>(store: S) {
    use xorpay::store::{EventClaim, NewEvent};
    let events = [NewEvent {
        kind: "expired",
        subject: "",
        due: at(10),
    }];
    let mut applied = change("f1", &[RecordState::Created], RecordState::Pending);
    applied.events = &events;
    store.insert(&record("f1", 0)).await.unwrap();
    assert_eq!(store.change(&applied).await.unwrap(), Transition::Applied);
    let claim = |token| EventClaim {
        now: at(1_000),
        token,
        lease: Duration::MAX,
    };
    let event = store.claim_event(&claim("t1")).await.unwrap();
    assert_eq!(event.map(|event| event.order_id).as_deref(), Some("f1"));
    assert_eq!(store.claim_event(&claim("t2")).await.unwrap(), None);

    let mut paid = record("f2", 0);
    paid.state = RecordState::Paid;
    store.insert(&paid).await.unwrap();
    let claim = |token| Claim {
        order_id: None,
        token,
        lease: Duration::MAX,
        limit: 10,
    };
    assert_eq!(store.claim(&claim("t1")).await.unwrap().len(), 1);
    assert!(store.claim(&claim("t2")).await.unwrap().is_empty());
}

async fn fulfilment_claims_are_exclusive_until_their_lease_ends(store: impl OrderStore) {
    for id in ["p1", "p2"] {
        let mut paid = record(id, 0);
        paid.state = RecordState::Paid;
        store.insert(&paid).await.unwrap();
    }
    store.insert(&record("unpaid", 0)).await.unwrap();
    let lease = Duration::from_millis(500);
    let claim = |token, order_id| Claim {
        order_id,
        token,
        lease,
        limit: 10,
    };
    // A claim takes at most its limit.
    let one = store
        .claim(&Claim {
            limit: 1,
            ..claim("t0", None)
        })
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    store
        .release_claim(&one[0].order_id, "t0", Duration::ZERO)
        .await
        .unwrap();
    // One claimer gets both paid orders; a second one gets nothing meanwhile.
    let first = store.claim(&claim("t1", None)).await.unwrap();
    assert_eq!(first.len(), 2);
    assert!(store.claim(&claim("t2", None)).await.unwrap().is_empty());
    // Recorded with its own token only.
    assert_eq!(
        store.mark_fulfilled("p1", "t2", at(1)).await.unwrap(),
        Transition::NotApplied
    );
    assert_eq!(
        store.mark_fulfilled("p1", "t1", at(1)).await.unwrap(),
        Transition::Applied
    );
    assert_eq!(
        store.load("p1").await.unwrap().unwrap().fulfilled_at,
        Some(at(1))
    );
    // A released claim (its hook failed) is free again after the retry time it names, not
    // before; an expired lease lets another claimer take over.
    store.release_claim("p2", "t1", lease).await.unwrap();
    assert!(
        store
            .claim(&claim("t3", Some("p2")))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.claim(&claim("t3", None)).await.unwrap().is_empty());
    tokio::time::sleep(lease + Duration::from_millis(100)).await;
    let again = store.claim(&claim("t3", Some("p2"))).await.unwrap();
    assert_eq!(again.len(), 1);
    tokio::time::sleep(lease + Duration::from_millis(100)).await;
    let taken = store.claim(&claim("t4", None)).await.unwrap();
    assert_eq!(
        taken
            .iter()
            .map(|r| r.order_id.as_str())
            .collect::<Vec<_>>(),
        ["p2"]
    );
    // The holder whose lease ended cannot record it any more; the new one can.
    assert_eq!(
        store.mark_fulfilled("p2", "t3", at(2)).await.unwrap(),
        Transition::NotApplied
    );
    assert_eq!(
        store.mark_fulfilled("p2", "t4", at(2)).await.unwrap(),
        Transition::Applied
    );
    // Fulfilled orders are never claimed again.
    tokio::time::sleep(lease + Duration::from_millis(100)).await;
    assert!(store.claim(&claim("t5", None)).await.unwrap().is_empty());
}

/// An order whose fulfilment keeps failing is held under its lease and passed over: the
/// others are claimed, oldest change first, and one released at once comes back before
/// younger orders never claimed. (A claim reads two short index ranges, never the held
/// orders.)
async fn held_orders_are_passed_over_and_come_back_oldest_first(store: impl OrderStore) {
    for (id, changed) in [("q1", 10), ("q2", 20), ("q3", 30), ("q4", 40), ("q5", 50)] {
        let mut paid = record(id, changed);
        paid.state = RecordState::Paid;
        store.insert(&paid).await.unwrap();
    }
    let claim = |token, order_id, limit| Claim {
        order_id,
        token,
        lease: Duration::from_secs(60),
        limit,
    };
    // In number order: a claim of several answers in no set order.
    let ids = |claimed: Vec<Record>| -> Vec<String> {
        let mut ids: Vec<String> = claimed.into_iter().map(|record| record.order_id).collect();
        ids.sort();
        ids
    };
    // Their hooks fail: q1 is released for a second, q2 for a minute, q3 at once.
    for (failed, wait) in [("q1", 1_000), ("q2", 60_000), ("q3", 0)] {
        let claimed = store.claim(&claim("t1", None, 1)).await.unwrap();
        assert_eq!(ids(claimed), [failed]);
        store
            .release_claim(failed, "t1", Duration::from_millis(wait))
            .await
            .unwrap();
    }
    // The two oldest changes free: q3 (released, changed at 30) and q4 (never claimed, 40),
    // not q5 (never claimed, 50); then q5; then nothing while q1 and q2 are held, not even
    // by number.
    assert_eq!(
        ids(store.claim(&claim("t2", None, 2)).await.unwrap()),
        ["q3", "q4"]
    );
    assert_eq!(
        ids(store.claim(&claim("t2", None, 10)).await.unwrap()),
        ["q5"]
    );
    assert!(
        store
            .claim(&claim("t2", None, 10))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claim(&claim("t2", Some("q2"), 10))
            .await
            .unwrap()
            .is_empty()
    );
    // A claim of nothing claims nothing, even by number.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(
        store
            .claim(&claim("t3", Some("q1"), 0))
            .await
            .unwrap()
            .is_empty()
    );
    // q1's wait ends: it is taken again, and q2 is still held.
    assert_eq!(
        ids(store.claim(&claim("t3", None, 10)).await.unwrap()),
        ["q1"]
    );
    assert!(
        store
            .claim(&claim("t3", None, 10))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Retention: every closed order before the cutoff (paid and fulfilled, or expired; unchanged
/// since; nobody to act; every event done) becomes a tombstone, at most `limit` per call, its
/// events deleted; nothing else is touched. A tombstone is found by no read, takes no
/// change, keeps its number and its aoid taken, and is never claimed.
async fn closed_orders_are_pruned_to_tombstones<S: Scoped>(store: S) {
    use xorpay::store::{EventClaim, NewEvent};
    let before = at(100);
    // A paid order, fulfilled at `fulfilled` (Unix offset), last changed at `changed`.
    let paid = |id: &'static str, fulfilled: Option<i64>, changed: i64, attention: bool| {
        let store = &store;
        async move {
            let mut row = record(id, 0);
            row.state = RecordState::Paid;
            store.insert(&row).await.unwrap();
            let mut paid = change(id, &[RecordState::Paid], RecordState::Paid);
            paid.at = at(changed);
            paid.attention = attention;
            assert_eq!(store.change(&paid).await.unwrap(), Transition::Applied);
            if let Some(fulfilled) = fulfilled {
                let token = format!("fulfil-{id}");
                let claim = Claim {
                    order_id: Some(id),
                    token: &token,
                    lease: Duration::from_secs(60),
                    limit: 1,
                };
                assert_eq!(store.claim(&claim).await.unwrap().len(), 1);
                assert_eq!(
                    store
                        .mark_fulfilled(id, &token, at(fulfilled))
                        .await
                        .unwrap(),
                    Transition::Applied
                );
            }
        }
    };
    let expired = |id: &'static str, expired_at: i64, attention: bool| {
        let store = &store;
        async move {
            store.insert(&record(id, 0)).await.unwrap();
            let mut gone = change(id, &[RecordState::Created], RecordState::Expired);
            gone.expired_at = Some(at(expired_at));
            gone.at = at(expired_at);
            gone.attention = attention;
            assert_eq!(store.change(&gone).await.unwrap(), Transition::Applied);
        }
    };
    // Closed before the cutoff.
    paid("paid-old", Some(10), 5, false).await;
    expired("expired-old", 20, false).await;
    let mut with_aoid = change("paid-old", &[RecordState::Paid], RecordState::Paid);
    with_aoid.new_aoid = Some(AOID);
    with_aoid.at = at(6);
    assert_eq!(store.change(&with_aoid).await.unwrap(), Transition::Applied);
    // With an event told (done): pruned, the event with it.
    paid("paid-told", Some(10), 7, false).await;
    let told = [NewEvent {
        kind: "refund_made",
        subject: "k-1",
        due: at(8),
    }];
    let mut refund = change("paid-told", &[RecordState::Paid], RecordState::Paid);
    refund.events = &told;
    refund.at = at(8);
    assert_eq!(store.change(&refund).await.unwrap(), Transition::Applied);
    let claimed = store
        .claim_event(&EventClaim {
            now: at(9),
            token: "tell-1",
            lease: Duration::from_secs(60),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.finish_event(&claimed, "tell-1", at(9)).await.unwrap(),
        Transition::Applied
    );
    // Not closed, or not before the cutoff: kept.
    store.insert(&record("created", 0)).await.unwrap();
    store.insert(&record("pending", 0)).await.unwrap();
    let mut pending = change("pending", &[RecordState::Created], RecordState::Pending);
    pending.submitted_at = Some(at(1));
    pending.at = at(1);
    assert_eq!(store.change(&pending).await.unwrap(), Transition::Applied);
    paid("paid-unfulfilled", None, 5, false).await;
    paid("paid-in-doubt", Some(10), 5, true).await;
    paid("paid-recently", Some(150), 5, false).await;
    paid("paid-changed-since", Some(10), 120, false).await;
    expired("expired-recently", 150, false).await;
    expired("expired-flagged", 20, true).await;
    // An event not yet told keeps its order.
    paid("paid-owed-a-hook", Some(10), 5, false).await;
    let owed = [NewEvent {
        kind: "refund_made",
        subject: "k-2",
        due: at(5_000),
    }];
    let mut owed_change = change("paid-owed-a-hook", &[RecordState::Paid], RecordState::Paid);
    owed_change.events = &owed;
    owed_change.at = at(9);
    assert_eq!(
        store.change(&owed_change).await.unwrap(),
        Transition::Applied
    );
    // Another merchant's closed order.
    let other = store.scoped("another-shop");
    other.insert(&record("expired-old", 0)).await.unwrap();
    let mut other_gone = change("expired-old", &[RecordState::Created], RecordState::Expired);
    other_gone.expired_at = Some(at(20));
    other_gone.at = at(20);
    assert_eq!(
        other.change(&other_gone).await.unwrap(),
        Transition::Applied
    );

    // At most `limit` per call; then the rest; then nothing.
    assert_eq!(store.prune(before, 2).await.unwrap(), 2);
    assert_eq!(store.prune(before, 10).await.unwrap(), 1);
    assert_eq!(store.prune(before, 10).await.unwrap(), 0);
    for gone in ["paid-old", "expired-old", "paid-told"] {
        assert_eq!(store.load(gone).await.unwrap(), None, "{gone} was pruned");
        // Its number stays taken.
        assert!(
            matches!(store.insert(&record(gone, 500)).await, Err(StoreError::Duplicate(id)) if id == gone),
            "{gone}'s number is still taken"
        );
        // No change applies to a tombstone.
        for from in [
            RecordState::Paid,
            RecordState::Expired,
            RecordState::Created,
        ] {
            let from = [from];
            let mut revive = change(gone, &from, RecordState::Paid);
            revive.at = at(500);
            assert_eq!(store.change(&revive).await.unwrap(), Transition::NotApplied);
        }
    }
    for kept in [
        "created",
        "pending",
        "paid-unfulfilled",
        "paid-in-doubt",
        "paid-recently",
        "paid-changed-since",
        "expired-recently",
        "expired-flagged",
        "paid-owed-a-hook",
    ] {
        let row = store.load(kept).await.unwrap();
        assert!(
            row.is_some_and(|row| row.order == format!(r#"{{"id":"{kept}"}}"#)),
            "{kept} is kept whole"
        );
    }
    assert!(other.load("expired-old").await.unwrap().is_some());
    // The pruned are listed nowhere, and their aoid stays theirs.
    let recent: Vec<String> = store
        .recent(100)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.order_id)
        .collect();
    assert_eq!(recent.len(), 9, "{recent:?}");
    assert!(
        !recent
            .iter()
            .any(|id| id.ends_with("-old") || id == "paid-told")
    );
    let mut stolen = record("thief", 600);
    stolen.aoid = Some(AOID.to_owned());
    assert!(matches!(
        store.insert(&stolen).await,
        Err(StoreError::AoidTaken { .. })
    ));
    // The owed event is still there to tell; the told one went with its order.
    let next = store
        .claim_event(&EventClaim {
            now: at(10_000),
            token: "tell-2",
            lease: Duration::from_secs(60),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.order_id, "paid-owed-a-hook");
    assert!(
        store
            .claim(&Claim {
                order_id: None,
                token: "fulfil-again",
                lease: Duration::from_secs(60),
                limit: 10,
            })
            .await
            .unwrap()
            .iter()
            .all(|row| row.order_id == "paid-unfulfilled")
    );
    let due = store
        .due_for_check(at(10_000), at(10_000), at(0), 100)
        .await
        .unwrap();
    assert!(due.iter().all(|row| !row.order_id.ends_with("-old")));
    // Once the owed event is told, a later prune takes that order too.
    assert_eq!(
        store.finish_event(&next, "tell-2", at(10)).await.unwrap(),
        Transition::Applied
    );
    assert_eq!(store.prune(before, 10).await.unwrap(), 1);
    assert_eq!(store.load("paid-owed-a-hook").await.unwrap(), None);
}

/// Payments at once (the stores write those waiting together): each caller hears its own
/// answer. Of two deliveries of one payment exactly one applies; a payment naming another
/// aoid or price, or an unknown order, applies to nothing and leaves its order pending;
/// another merchant's order of the same number is paid on its own; every order is paid
/// once, with its own payment's data, however long.
async fn payments_at_once_each_hear_their_own_answer<S: Scoped + Clone>(store: S) {
    const ORDERS: usize = 60;
    let aoid = |n: usize| format!("{n:032x}");
    let other = store.scoped("another-shop");
    for n in 0..ORDERS {
        let mut row = record(&format!("p-{n}"), 0);
        row.state = RecordState::Pending;
        row.aoid = Some(aoid(n));
        store.insert(&row).await.unwrap();
        if n < 10 {
            other.insert(&row).await.unwrap();
        }
    }
    // (merchant's store, order, aoid, price, data): orders 0..40 twice rightly, 40..50 with
    // another order's aoid, 50..60 at another price; 0..10 also the other merchant's.
    let mut payments = Vec::new();
    for n in 0..ORDERS {
        let (id, data) = (format!("p-{n}"), format!(r#"{{"n":{n}}}"#));
        match n {
            0..40 => {
                for copy in 0..2 {
                    let data = if n == 7 {
                        format!(r#"{{"n":7,"copy":{copy},"pad":"{}"}}"#, "支".repeat(3000))
                    } else {
                        format!(r#"{{"n":{n},"copy":{copy}}}"#)
                    };
                    payments.push((store.clone(), id.clone(), aoid(n), 1250, data));
                }
            }
            40..50 => payments.push((store.clone(), id.clone(), aoid(n + 100), 1250, data.clone())),
            _ => payments.push((store.clone(), id.clone(), aoid(n), 1251, data.clone())),
        }
        if n < 10 {
            payments.push((
                other.clone(),
                id,
                aoid(n),
                1250,
                format!(r#"{{"other":{n}}}"#),
            ));
        }
    }
    payments.push((
        store.clone(),
        "p-unknown".to_owned(),
        aoid(999),
        1250,
        "{}".to_owned(),
    ));
    let mut tasks = Vec::new();
    for (shop, order_id, aoid, price, data) in payments.clone() {
        tasks.push(tokio::spawn(async move {
            let pending = [RecordState::Pending];
            let mut pay = change(&order_id, &pending, RecordState::Paid);
            pay.aoid = AoidCondition::Is(&aoid);
            pay.price_fen = price;
            pay.data = &data;
            shop.change(&pay).await.unwrap()
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    for n in 0..ORDERS {
        let order_id = format!("p-{n}");
        let answered: Vec<(&String, Transition)> = payments
            .iter()
            .zip(&answers)
            .filter(|((_, id, _, _, data), _)| *id == order_id && !data.contains("other"))
            .map(|((_, _, _, _, data), answer)| (data, *answer))
            .collect();
        let applied: Vec<&String> = answered
            .iter()
            .filter(|(_, answer)| *answer == Transition::Applied)
            .map(|(data, _)| *data)
            .collect();
        let stored = store.load(&order_id).await.unwrap().unwrap();
        if n < 40 {
            assert_eq!(applied.len(), 1, "{order_id}: {answered:?}");
            assert_eq!(stored.state, RecordState::Paid);
            assert_eq!(
                &stored.data, applied[0],
                "{order_id} keeps the payment that applied"
            );
        } else {
            assert!(applied.is_empty(), "{order_id}: {answered:?}");
            assert_eq!(stored.state, RecordState::Pending, "{order_id}");
        }
    }
    for n in 0..10 {
        let order_id = format!("p-{n}");
        let answer = payments
            .iter()
            .zip(&answers)
            .find(|((_, id, _, _, data), _)| *id == order_id && data.contains("other"))
            .map(|(_, answer)| *answer);
        assert_eq!(answer, Some(Transition::Applied), "another-shop {order_id}");
        let stored = other.load(&order_id).await.unwrap().unwrap();
        assert_eq!(stored.data, format!(r#"{{"other":{n}}}"#));
    }
    assert_eq!(
        *answers.last().unwrap(),
        Transition::NotApplied,
        "p-unknown"
    );
}

/// Each generic test, once per store.
macro_rules! for_every_store {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Stores::new().open()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(store) = super::support::postgres::fresh_store().await {
                        super::$test(store).await;
                    }
                }
            )*
        }
        // MySQL counts the rows an UPDATE changed unless the client asks for the rows it
        // matched (CLIENT_FOUND_ROWS): the answers must be the same either way.
        mod mysql_changed_rows {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(store) = super::support::mysql::fresh_store(false).await {
                        super::$test(store).await;
                    }
                }
            )*
        }
        mod mysql_found_rows {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(store) = super::support::mysql::fresh_store(true).await {
                        super::$test(store).await;
                    }
                }
            )*
        }
    };
}

for_every_store!(
    inserts_are_durable_and_unique,
    changes_apply_only_to_the_row_they_expect,
    a_copy_changed_twice_since_its_load_cannot_overwrite_a_newer_save,
    reconciliation_sees_only_what_is_due,
    recent_and_attention_lists,
    the_tally_counts_pending_and_attention,
    events_are_recorded_with_their_change_and_claimed_once,
    held_events_are_passed_over_and_come_back_in_due_order,
    a_lease_of_forever_claims_and_holds,
    a_change_that_leaves_the_row_as_it_was_is_applied,
    fulfilment_claims_are_exclusive_until_their_lease_ends,
    held_orders_are_passed_over_and_come_back_oldest_first,
    merchants_sharing_a_store_never_see_each_others_orders,
    an_aoid_belongs_to_one_order,
    the_merchant_table_keeps_the_secret_a_rotation_replaces,
    closed_orders_are_pruned_to_tombstones,
    payments_at_once_each_hear_their_own_answer,
);

/// The merchant table: rows added, read back in name order; a new secret keeps the one it
/// replaces with the time it was replaced (on the database's clock), saving the same secret
/// again keeps the rotation as it was, and disabling keeps the secrets.
async fn the_merchant_table_keeps_the_secret_a_rotation_replaces<S: Scoped>(store: S) {
    use xorpay::AppSecret;
    use xorpay::store::MerchantRecord;
    let secret = |text: &str| AppSecret::new(text).unwrap();
    let row =
        |name: &str, aid: &str, text: &str| MerchantRecord::new(name, aid, secret(text)).unwrap();
    let exposed = |secret: &AppSecret| {
        // The signature over a fixed text tells two secrets apart without printing either.
        xorpay::sign::query2("x", secret).as_str().to_owned()
    };
    assert!(store.merchants().await.unwrap().is_empty());
    store.save(&row("tea-house", "1000", "aaaa")).await;
    store.save(&row("book-shop", "2000", "bbbb")).await;
    let read = store.merchants().await.unwrap();
    let names: Vec<&str> = read.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["book-shop", "tea-house"]);
    assert!(
        read.iter()
            .all(|m| m.enabled && m.previous_secret.is_none())
    );

    let before = OffsetDateTime::now_utc() - xorpay::time::Duration::seconds(5);
    store.save(&row("tea-house", "1000", "AAAA")).await;
    let tea = |read: Vec<MerchantRecord>| read.into_iter().find(|m| m.name == "tea-house").unwrap();
    let rotated = tea(store.merchants().await.unwrap());
    assert_eq!(
        exposed(&rotated.secret),
        exposed(&secret("AAAA")),
        "a change of case is a change"
    );
    let (previous, retired) = rotated
        .previous_secret
        .clone()
        .expect("the replaced secret");
    assert_eq!(exposed(&previous), exposed(&secret("aaaa")));
    let after = OffsetDateTime::now_utc() + xorpay::time::Duration::seconds(5);
    assert!(before <= retired && retired <= after, "{retired}");

    // The same secret again (another aid, disabled): the rotation stays as it was.
    store
        .save(&row("tea-house", "1001", "AAAA").enabled(false))
        .await;
    let saved = tea(store.merchants().await.unwrap());
    assert_eq!((saved.aid.as_str(), saved.enabled), ("1001", false));
    let (again, at) = saved.previous_secret.expect("still the replaced secret");
    assert_eq!((exposed(&again), at), (exposed(&previous), retired));

    // A second rotation replaces the previous secret with the one in use.
    store.save(&row("tea-house", "1001", "cccc")).await;
    let (previous, _) = tea(store.merchants().await.unwrap())
        .previous_secret
        .unwrap();
    assert_eq!(exposed(&previous), exposed(&secret("AAAA")));
}

/// Merchants sharing one database: the same order number in each, kept apart in every
/// operation.
async fn merchants_sharing_a_store_never_see_each_others_orders<S: Scoped>(store: S) {
    let (a, b) = (store.scoped("shop-a"), store.scoped("shop-b"));
    a.insert(&record("same-1", 0)).await.unwrap();
    let mut other = record("same-1", 1);
    other.price_fen = 999;
    b.insert(&other).await.unwrap();
    assert_eq!(a.load("same-1").await.unwrap().unwrap().price_fen, 1250);
    assert_eq!(b.load("same-1").await.unwrap().unwrap().price_fen, 999);
    assert!(store.load("same-1").await.unwrap().is_none());
    // A change for one never touches the other's row.
    let created = [RecordState::Created];
    let to_pending = change("same-1", &created, RecordState::Pending);
    assert_eq!(a.change(&to_pending).await.unwrap(), Transition::Applied);
    assert_eq!(
        b.load("same-1").await.unwrap().unwrap().state,
        RecordState::Created
    );
    assert_eq!(a.recent(10).await.unwrap().len(), 1);
    assert_eq!(b.recent(10).await.unwrap().len(), 1);
    // Claims are per merchant too.
    let mut paid = record("paid-b", 2);
    paid.state = RecordState::Paid;
    b.insert(&paid).await.unwrap();
    let claim = Claim {
        order_id: None,
        token: "t",
        lease: Duration::from_secs(60),
        limit: 10,
    };
    assert!(a.claim(&claim).await.unwrap().is_empty());
    assert_eq!(b.claim(&claim).await.unwrap().len(), 1);
}

/// A store that can be scoped to a merchant, and keeps the merchant table.
trait Scoped: OrderStore + xorpay::store::MerchantTable + Sized {
    fn scoped(&self, merchant: &str) -> Self;
    /// `save_merchant`, which must succeed.
    async fn save(&self, merchant: &xorpay::store::MerchantRecord);
}

impl Scoped for SqliteStore {
    fn scoped(&self, merchant: &str) -> Self {
        self.merchant(merchant)
    }
    async fn save(&self, merchant: &xorpay::store::MerchantRecord) {
        self.save_merchant(merchant).await.unwrap();
    }
}

impl Scoped for xorpay::store::PgStore {
    fn scoped(&self, merchant: &str) -> Self {
        self.merchant(merchant)
    }
    async fn save(&self, merchant: &xorpay::store::MerchantRecord) {
        self.save_merchant(merchant).await.unwrap();
    }
}

impl Scoped for xorpay::store::MySqlStore {
    fn scoped(&self, merchant: &str) -> Self {
        self.merchant(merchant)
    }
    async fn save(&self, merchant: &xorpay::store::MerchantRecord) {
        self.save_merchant(merchant).await.unwrap();
    }
}

/// A merchant row written by hand with a secret XorPay would refuse: reading the table fails
/// and names the merchant and the fault, never the secret; a name that cannot be a URL
/// segment is refused before anything is written.
#[tokio::test]
async fn sqlite_reports_a_merchant_row_that_cannot_be_used() {
    use xorpay::store::{MerchantRecord, MerchantTable};
    let stores = Stores::new();
    let store = stores.open();
    let connection = rusqlite::Connection::open(&stores.file).unwrap();
    connection
        .execute(
            "INSERT INTO xorpay_merchants (name, aid, secret, enabled, updated_unix)
             VALUES ('pasted', '1000', 'secret-with-a-newline
', 1, 0)",
            [],
        )
        .unwrap();
    let error = store.merchants().await.unwrap_err().to_string();
    assert!(
        error.contains("\"pasted\"") && error.contains("whitespace"),
        "{error}"
    );
    assert!(!error.contains("secret-with-a-newline"), "{error}");
    let refused = MerchantRecord::new("tea house/1", "1000", xorpay::AppSecret::new("s").unwrap());
    assert!(refused.unwrap_err().to_string().contains("URL"));
}

/// The message of a store that refused to open.
fn refusal<S: std::fmt::Debug>(opened: Result<S, StoreError>) -> String {
    match opened {
        Err(StoreError::Database(message)) => message,
        other => panic!("expected the store to refuse, got {other:?}"),
    }
}

/// A file written by an unreleased version before 0.1.0 (its schema 5: a table `orders`,
/// numbered by `user_version` alone) is refused with the fix, and left as it was.
#[test]
fn sqlite_refuses_a_file_of_an_unreleased_version_and_names_the_fix() {
    let stores = Stores::new();
    let db = rusqlite::Connection::open(&stores.file).unwrap();
    db.execute_batch(
        "CREATE TABLE orders (merchant TEXT NOT NULL DEFAULT '', order_id TEXT NOT NULL,
             state TEXT NOT NULL, price_fen INTEGER NOT NULL, revision INTEGER NOT NULL,
         PRIMARY KEY (merchant, order_id));
         INSERT INTO orders VALUES ('', 'old-1', 'paid', 100, 0);
         PRAGMA user_version = 5;",
    )
    .unwrap();
    drop(db);
    let message = refusal(SqliteStore::open(&stores.file));
    assert!(
        message.contains("unreleased version of xorpay") && message.contains("delete the file"),
        "{message}"
    );
    let db = rusqlite::Connection::open(&stores.file).unwrap();
    let kept: String = db
        .query_row(
            "SELECT state FROM orders WHERE order_id = 'old-1'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(kept, "paid");
}

/// A file whose xorpay tables an unreleased build made before the hook's event table is
/// refused when opened, with the fix, not at the first refund it would lose an event of.
#[test]
fn sqlite_refuses_a_file_an_unreleased_build_made_and_names_the_fix() {
    let stores = Stores::new();
    drop(stores.open());
    let db = rusqlite::Connection::open(&stores.file).unwrap();
    db.execute_batch("UPDATE xorpay_store SET schema_version = 1")
        .unwrap();
    drop(db);
    let message = refusal(SqliteStore::open(&stores.file));
    assert!(
        message.contains("unreleased build") && message.contains("drop xorpay's tables"),
        "{message}"
    );
}

/// The store's tables may share a file with the merchant's own; a file a newer release
/// wrote is refused; the store's own file opens again.
#[tokio::test]
async fn sqlite_shares_a_file_and_opens_only_its_own_schema() {
    let stores = Stores::new();
    let db = rusqlite::Connection::open(&stores.file).unwrap();
    db.execute_batch(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, total TEXT);
         INSERT INTO orders VALUES (1, '9.99');
         PRAGMA user_version = 3;",
    )
    .unwrap();
    drop(db);
    let store = stores.open();
    store.insert(&record("shared-1", 0)).await.unwrap();
    drop(store);
    let store = stores.open();
    assert!(store.load("shared-1").await.unwrap().is_some());
    drop(store);
    let db = rusqlite::Connection::open(&stores.file).unwrap();
    let version: i64 = db
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, 3, "the merchant's own user_version was changed");
    db.execute_batch("UPDATE xorpay_store SET schema_version = 3;")
        .unwrap();
    drop(db);
    let message = refusal(SqliteStore::open(&stores.file));
    assert!(
        message.contains("newer release") && message.contains("upgrade"),
        "{message}"
    );
}

/// A database holding the tables of an unreleased version before 0.1.0 (with their
/// `xorpay_schema` numbering) is refused with the statement that clears it; after it, the
/// store connects.
#[tokio::test]
async fn postgres_refuses_tables_of_an_unreleased_version_and_names_the_fix() {
    let Some(url) = support::postgres::fresh_schema_url().await else {
        return;
    };
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    client
        .batch_execute(
            "CREATE TABLE xorpay_schema (version INTEGER NOT NULL);
             INSERT INTO xorpay_schema VALUES (1), (2);
             CREATE TABLE xorpay_orders (merchant TEXT NOT NULL, order_id TEXT NOT NULL);",
        )
        .await
        .unwrap();
    let message = refusal(xorpay::store::PgStore::connect(&url).await);
    assert!(
        message.contains("unreleased version of xorpay")
            && message.contains("DROP TABLE xorpay_orders, xorpay_schema"),
        "{message}"
    );
    client
        .batch_execute("DROP TABLE xorpay_orders, xorpay_schema")
        .await
        .unwrap();
    let store = xorpay::store::PgStore::connect(&url).await.unwrap();
    store.insert(&record("after-1", 0)).await.unwrap();
    drop(client);
    let _ = connection.await;
}

/// MySQL commits each `CREATE TABLE` on its own, so a connect cut off while creating the
/// schema leaves it half made: the orders table without the version table, or the version
/// table still empty. The next connect completes it, keeping what the table holds.
#[tokio::test]
async fn mysql_completes_a_schema_a_cut_off_connect_left_half_made() {
    use mysql_async::prelude::Queryable;
    let Some(url) = support::mysql::fresh_database_url().await else {
        return;
    };
    let store = xorpay::store::MySqlStore::connect(&url).await.unwrap();
    store.insert(&record("before-1", 0)).await.unwrap();
    let mut conn = support::mysql::connect(&url).await;
    // Cut off after the first step, then after the second.
    for cut in ["DROP TABLE xorpay_store", "DELETE FROM xorpay_store"] {
        conn.query_drop(cut).await.unwrap();
        let again = xorpay::store::MySqlStore::connect(&url).await.unwrap();
        assert_eq!(
            again.load("before-1").await.unwrap().unwrap().price_fen,
            1250
        );
        let versions: Vec<i64> = conn
            .query("SELECT schema_version FROM xorpay_store")
            .await
            .unwrap();
        assert_eq!(versions, [2], "after {cut:?}");
    }
    // A table of the same name that this store did not make is refused, not adopted.
    let other = support::mysql::fresh_database_url().await.unwrap();
    let mut conn = support::mysql::connect(&other).await;
    conn.query_drop("CREATE TABLE xorpay_orders (id INT PRIMARY KEY)")
        .await
        .unwrap();
    let message = refusal(xorpay::store::MySqlStore::connect(&other).await);
    assert!(message.contains("did not make"), "{message}");
    // Nor is a schema of a newer release.
    let newer = support::mysql::fresh_database_url().await.unwrap();
    drop(xorpay::store::MySqlStore::connect(&newer).await.unwrap());
    let mut conn = support::mysql::connect(&newer).await;
    conn.query_drop("UPDATE xorpay_store SET schema_version = 3")
        .await
        .unwrap();
    let message = refusal(xorpay::store::MySqlStore::connect(&newer).await);
    assert!(message.contains("upgrade xorpay"), "{message}");
}

/// Two processes on one file (two SQLite connections) or one database (two pools).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_processes_on_one_file_never_both_win() {
    let stores = Stores::new();
    two_processes_never_both_win(stores.open(), stores.open()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_instances_on_one_database_never_both_win() {
    let Some(url) = support::postgres::fresh_schema_url().await else {
        return;
    };
    let one = xorpay::store::PgStore::connect(&url).await.unwrap();
    let two = xorpay::store::PgStore::connect(&url).await.unwrap();
    two_processes_never_both_win(one, two).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_two_instances_on_one_database_never_both_win() {
    let Some(url) = support::mysql::fresh_database_url().await else {
        return;
    };
    let one = xorpay::store::MySqlStore::connect(&url).await.unwrap();
    let two = xorpay::store::MySqlStore::connect(&url).await.unwrap();
    two_processes_never_both_win(one, two).await;
}

/// Of two changes made from the same reading at once, exactly one applies, and claimers
/// sweeping at once never take the same order.
async fn two_processes_never_both_win<S: OrderStore + Clone>(one: S, two: S) {
    let ids: Vec<String> = (0..20).map(|n| format!("p{n}")).collect();
    for id in &ids {
        let mut paid = record(id, 0);
        paid.state = RecordState::Paid;
        one.insert(&paid).await.unwrap();
    }
    let paid = [RecordState::Paid];
    for id in &ids {
        let write = |data: &'static str| {
            let mut change = change(id, &paid, RecordState::Paid);
            change.revision = Some(0);
            change.new_revision = 1;
            change.data = data;
            change
        };
        let (first, second) = (write("one"), write("two"));
        let (first, second) = tokio::join!(one.change(&first), two.change(&second));
        let applied = [
            first.unwrap() == Transition::Applied,
            second.unwrap() == Transition::Applied,
        ];
        assert_eq!(
            applied.iter().filter(|a| **a).count(),
            1,
            "{id}: {applied:?}"
        );
        let stored = one.load(id).await.unwrap().unwrap();
        let winner = if applied[0] { "one" } else { "two" };
        assert_eq!((stored.data.as_str(), stored.revision), (winner, 1));
    }
    let sweep = |store: S, token: &'static str| async move {
        let mut taken = Vec::new();
        loop {
            let claim = Claim {
                order_id: None,
                token,
                lease: Duration::from_secs(60),
                limit: 1,
            };
            let Some(record) = store.claim(&claim).await.unwrap().pop() else {
                return taken;
            };
            taken.push(record.order_id);
        }
    };
    let (a, b) = tokio::join!(sweep(one, "one"), sweep(two, "two"));
    let mut all: Vec<String> = a.iter().chain(&b).cloned().collect();
    all.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(all, expected, "one took {a:?}, two took {b:?}");
}

/// One call opens the store a URL names; a URL naming none is refused without repeating the
/// URL (which may hold a password).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_opens_from_its_url() {
    let stores = Stores::new();
    let url = format!("sqlite://{}", stores.file.display());
    let store = xorpay::store::AnyStore::open(&url).await.unwrap();
    drop(store);
    // The file now holds the store's schema: the typed store opens it as its own.
    stores.open().insert(&record("by-url-1", 0)).await.unwrap();
    xorpay::store::AnyStore::open("sqlite::memory:")
        .await
        .unwrap();

    for url in [
        "redis://user:hunter2@localhost/0",
        "orders.sqlite",
        "sqlite://",
    ] {
        let message = match xorpay::store::AnyStore::open(url).await {
            Err(StoreError::Database(message)) => message,
            other => panic!("{url}: expected a refusal, got {other:?}"),
        };
        assert!(!message.contains("hunter2"), "{message}");
        assert!(
            message.contains("sqlite://"),
            "{url}: the refusal names the forms that work: {message}"
        );
    }

    if let Some(url) = support::postgres::fresh_schema_url().await {
        let store = xorpay::store::AnyStore::open(&url).await.unwrap();
        drop(store);
        let typed = xorpay::store::PgStore::connect(&url).await.unwrap();
        assert!(typed.load("none").await.unwrap().is_none());
    }
    if let Some(url) = support::mysql::fresh_database_url().await {
        let store = xorpay::store::AnyStore::open(&url).await.unwrap();
        drop(store);
        let typed = xorpay::store::MySqlStore::connect(&url).await.unwrap();
        assert!(typed.load("none").await.unwrap().is_none());
    }
}
