//! Group commit for a database server's payments (`PgStore`, `MySqlStore`): payments that
//! wait at the same moment are written in one transaction, one commit for all.
//!
//! A payment is the change a notification makes: a `pending` order at its exact price and
//! `aoid` becomes `paid` ([`Payment::of`]). The store hands it to a [`Batcher`]; a few
//! worker tasks each take every payment waiting (up to [`MOST`]), write them with the
//! store's [`Apply`], and answer each caller only after the commit, with its own
//! answer. Nothing else is batched. A batch answers only "paid" for certain: every other
//! payment its caller writes alone, as without batching, and hears its own answer or error
//! (the order was not pending at that price and `aoid`, or its row was locked by another
//! writer, or it was a second delivery of an order in the same batch, or the batch was
//! refused before its commit, or the workers are gone with their runtime). When the
//! connection is lost while the commit is under way, whether it happened is unknown: every
//! caller of that batch hears the error, as a write alone would have said.

use core::future::Future;
use core::pin::Pin;
use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::{AoidCondition, Change, RecordState, StoreError};

/// The most payments in one transaction.
pub(super) const MOST: usize = 64;

/// How many batches may be written at once: while one waits for its commit, the next fills.
const WORKERS: usize = 2;

/// One payment, owned so that it can wait in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Payment {
    pub(super) merchant: Arc<str>,
    pub(super) order_id: String,
    pub(super) price_fen: u64,
    pub(super) aoid: String,
    pub(super) new_revision: u32,
    pub(super) data: String,
    /// When (the service's clock), Unix seconds.
    pub(super) at: i64,
}

impl Payment {
    /// The payment `change` makes, if it is one: from `pending` only, to `paid`, at an exact
    /// `aoid`, with no revision to match, nothing else set and no events.
    pub(super) fn of(change: &Change<'_>, merchant: &Arc<str>) -> Option<Payment> {
        let AoidCondition::Is(aoid) = change.aoid else {
            return None;
        };
        let payment = change.from == [RecordState::Pending]
            && change.to == RecordState::Paid
            && change.revision.is_none()
            && change.new_aoid.is_none()
            && change.submitted_at.is_none()
            && change.expired_at.is_none()
            && !change.attention
            && change.events.is_empty();
        payment.then(|| Payment {
            merchant: Arc::clone(merchant),
            order_id: change.order_id.to_owned(),
            price_fen: change.price_fen,
            aoid: aoid.to_owned(),
            new_revision: change.new_revision,
            data: change.data.to_owned(),
            at: change.at.unix_timestamp(),
        })
    }

    fn key(&self) -> (&str, &str) {
        (&self.merchant, &self.order_id)
    }
}

/// What a batch did.
pub(super) enum Written {
    /// Committed: for each payment, in order, whether this batch paid its order (`false`:
    /// its caller writes it alone, which says why not).
    Committed(Vec<bool>),
    /// Nothing was committed (the database refused before the commit): every caller writes
    /// its payment alone.
    Nothing,
    /// Whether the commit happened is unknown (the connection was lost while it was under
    /// way): every caller hears this error, as a write alone would have said.
    Unknown(StoreError),
}

/// Writes payments of distinct orders, sorted by key (so that two batches lock rows in one
/// order), in one transaction.
pub(super) type Apply =
    Arc<dyn Fn(Vec<Payment>) -> Pin<Box<dyn Future<Output = Written> + Send>> + Send + Sync>;

/// The batch's answer to one caller.
pub(super) enum Answer {
    /// The batch paid the order, and is committed.
    Applied,
    /// The caller writes its payment alone: the batch did not pay it (not `pending` at that
    /// price and `aoid`, its row locked by another writer, a second delivery in the same
    /// batch), or wrote nothing, or the workers are gone.
    Alone,
    /// Whether the batch was committed is unknown.
    Failed(StoreError),
}

type Reply = oneshot::Sender<Answer>;

/// The queue of a store's payments and the workers that write them.
#[derive(Clone)]
pub(super) struct Batcher {
    queue: mpsc::UnboundedSender<(Payment, Reply)>,
}

impl Batcher {
    /// Starts the workers on the current tokio runtime. They end when every clone of the
    /// batcher is dropped.
    pub(super) fn start(apply: Apply) -> Batcher {
        let (queue, waiting) = mpsc::unbounded_channel();
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..WORKERS {
            tokio::spawn(work(Arc::clone(&apply), Arc::clone(&waiting)));
        }
        Batcher { queue }
    }

    /// Writes `payment` with the others waiting.
    pub(super) async fn pay(&self, payment: Payment) -> Answer {
        let (reply, answer) = oneshot::channel();
        if self.queue.send((payment, reply)).is_err() {
            return Answer::Alone;
        }
        answer.await.unwrap_or(Answer::Alone)
    }
}

/// A worker: takes every payment waiting, writes them, answers; until the queue closes.
async fn work(apply: Apply, waiting: Arc<Mutex<mpsc::UnboundedReceiver<(Payment, Reply)>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut waiting = waiting.lock().await;
            match waiting.recv().await {
                Some(first) => batch.push(first),
                None => return,
            }
            while batch.len() < MOST {
                match waiting.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
        }
        // One row per order in a batch: a second payment of an order in it is written by
        // its caller, alone, once this batch is committed.
        batch.sort_by(|(one, _), (two, _)| one.key().cmp(&two.key()));
        let mut seen = HashSet::new();
        let (batch, again): (Vec<_>, Vec<_>) = batch.into_iter().partition(|(payment, _)| {
            seen.insert((payment.merchant.clone(), payment.order_id.clone()))
        });
        let (payments, replies): (Vec<Payment>, Vec<Reply>) = batch.into_iter().unzip();
        let count = payments.len();
        match apply(payments).await {
            Written::Committed(paid) if paid.len() == count => {
                for (reply, paid) in replies.into_iter().zip(paid) {
                    let _ = reply.send(if paid { Answer::Applied } else { Answer::Alone });
                }
            }
            // Committed, but not answered for each: nobody can say which were paid.
            Written::Committed(_) => {
                for reply in replies {
                    let _ = reply.send(Answer::Failed(StoreError::Database(
                        "a batch of payments answered for the wrong number of payments".to_owned(),
                    )));
                }
            }
            Written::Nothing => {
                for reply in replies {
                    let _ = reply.send(Answer::Alone);
                }
            }
            Written::Unknown(error) => {
                for reply in replies {
                    let _ = reply.send(Answer::Failed(StoreError::Database(error.to_string())));
                }
            }
        }
        for (_, reply) in again {
            let _ = reply.send(Answer::Alone);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn change<'a>(from: &'a [RecordState], aoid: AoidCondition<'a>) -> Change<'a> {
        Change {
            order_id: "o-1",
            from,
            price_fen: 100,
            aoid,
            revision: None,
            to: RecordState::Paid,
            new_aoid: None,
            new_revision: 0,
            data: "{}",
            submitted_at: None,
            expired_at: None,
            attention: false,
            events: &[],
            at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn payment(order_id: &str) -> Payment {
        Payment {
            merchant: Arc::from("m"),
            order_id: order_id.to_owned(),
            price_fen: 100,
            aoid: "a".to_owned(),
            new_revision: 1,
            data: "{}".to_owned(),
            at: 0,
        }
    }

    fn said(answer: &Answer) -> &'static str {
        match answer {
            Answer::Applied => "applied",
            Answer::Alone => "alone",
            Answer::Failed(_) => "failed",
        }
    }

    /// Three callers at once (the workers first run once all three wait, on this
    /// current-thread runtime), against a writer that answers `written` and records the
    /// order numbers of each batch it was given.
    async fn three_at_once(
        written: impl Fn(usize) -> Written + Send + Sync + 'static,
    ) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let batches = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&batches);
        let written = Arc::new(written);
        let apply: Apply = Arc::new(move |payments: Vec<Payment>| {
            let ids = payments.iter().map(|p| p.order_id.clone()).collect();
            seen.lock().unwrap().push(ids);
            let answer = written(payments.len());
            Box::pin(async move { answer })
        });
        let batcher = Batcher::start(apply);
        let (c, a, b) = tokio::join!(
            batcher.pay(payment("o-c")),
            batcher.pay(payment("o-a")),
            batcher.pay(payment("o-b")),
        );
        let batches = batches.lock().unwrap().clone();
        (vec![said(&c), said(&a), said(&b)], batches)
    }

    #[tokio::test]
    async fn each_caller_hears_its_own_answer_from_a_committed_batch() {
        // The batch is sorted by order number: the answers are for o-a, o-b, o-c.
        let (answers, batches) =
            three_at_once(|_| Written::Committed(vec![true, false, true])).await;
        assert_eq!(batches, [["o-a", "o-b", "o-c"]]);
        assert_eq!(answers, ["applied", "applied", "alone"]);
    }

    #[tokio::test]
    async fn a_commit_whose_answer_was_lost_fails_every_caller_of_the_batch() {
        let (answers, batches) =
            three_at_once(|_| Written::Unknown(StoreError::Database("connection lost".to_owned())))
                .await;
        assert_eq!(batches.len(), 1);
        assert_eq!(answers, ["failed", "failed", "failed"]);
    }

    #[tokio::test]
    async fn a_batch_refused_before_its_commit_sends_every_caller_alone() {
        let (answers, _) = three_at_once(|_| Written::Nothing).await;
        assert_eq!(answers, ["alone", "alone", "alone"]);
    }

    #[tokio::test]
    async fn a_batch_answered_for_the_wrong_number_fails_every_caller() {
        let (answers, _) = three_at_once(|n| Written::Committed(vec![true; n - 1])).await;
        assert_eq!(answers, ["failed", "failed", "failed"]);
    }

    #[tokio::test]
    async fn a_second_payment_of_an_order_in_one_batch_is_written_alone() {
        let batches = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&batches);
        let apply: Apply = Arc::new(move |payments: Vec<Payment>| {
            seen.lock().unwrap().push(payments.len());
            let n = payments.len();
            Box::pin(async move { Written::Committed(vec![true; n]) })
        });
        let batcher = Batcher::start(apply);
        let (one, two) = tokio::join!(batcher.pay(payment("o-a")), batcher.pay(payment("o-a")));
        assert_eq!(*batches.lock().unwrap(), [1]);
        let mut answers = [said(&one), said(&two)];
        answers.sort_unstable();
        assert_eq!(answers, ["alone", "applied"]);
    }

    #[test]
    fn only_a_notifications_payment_is_batched() {
        let merchant: Arc<str> = Arc::from("");
        let pending = [RecordState::Pending];
        assert!(Payment::of(&change(&pending, AoidCondition::Is("a")), &merchant).is_some());
        // From another state, without the aoid to match, or with anything more: alone.
        let expired = [RecordState::Pending, RecordState::Expired];
        assert!(Payment::of(&change(&expired, AoidCondition::Is("a")), &merchant).is_none());
        assert!(Payment::of(&change(&pending, AoidCondition::UnknownOr("a")), &merchant).is_none());
        let mut flagged = change(&pending, AoidCondition::Is("a"));
        flagged.attention = true;
        assert!(Payment::of(&flagged, &merchant).is_none());
        let mut learning = change(&pending, AoidCondition::Is("a"));
        learning.new_aoid = Some("a");
        assert!(Payment::of(&learning, &merchant).is_none());
        let mut counted = change(&pending, AoidCondition::Is("a"));
        counted.revision = Some(1);
        assert!(Payment::of(&counted, &merchant).is_none());
    }
}
