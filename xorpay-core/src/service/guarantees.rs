//! What the service promises about money, each promise stated once, on its own page here.
//! Everything else (the other docs, the README, the examples) links to these pages instead of
//! saying it again.
//!
//! - [`acknowledgement`]: XorPay hears `ok` only after the payment is durably recorded.
//! - [`one_live_order`]: never two live orders at XorPay for one order number.
//! - [`refund_in_doubt`]: a refund is recorded in doubt before it is sent.
//! - [`fulfilment`]: each paid order is fulfilled at least once and recorded once.

pub mod acknowledgement {
    //! # Acknowledge only after the durable write
    //!
    //! XorPay notifies a payment until the merchant answers HTTP 200 with the body `ok`, and
    //! then never again. So the service answers `ok` ([`Confirmed`](crate::service::Confirmed))
    //! only once the payment is recorded in one conditional write that the store reported
    //! committed and durable (SQLite: WAL with `synchronous = FULL`; PostgreSQL: a committed
    //! transaction; MySQL: a committed InnoDB transaction, durable with the server's default
    //! `innodb_flush_log_at_trx_commit = 1`). Anything less (an invalid signature, an amount that disagrees, a store that
    //! failed or refused) answers a non-200 status, so XorPay notifies again. A write that did
    //! not apply is read back: only an order that really is paid is acknowledged as already
    //! paid. A duplicate or concurrent notification of one payment is acknowledged too, and
    //! exactly one of them is reported new (`Confirmed::is_new`).
    //!
    //! Implemented by `Payments::confirm` (`service/confirm.rs`) and the store's conditional
    //! write (`store`); the axum router answers what `confirm` decided. `tests/db_faults.rs`
    //! shows it on each store when the database refuses the write (a full file, a connection
    //! killed mid-statement, a restarted server), and on PostgreSQL and MySQL when the answer
    //! to a committed write is lost, alone or in a batch: XorPay hears a 5xx, then `ok` once
    //! the retry reads the order back as paid.
}

pub mod one_live_order {
    //! # Never two live orders for one order number
    //!
    //! An answer to a checkout can be lost after XorPay created the order (a timeout, a dropped
    //! connection, a 5xx). The order is then *in doubt*: stored as created, its fate unknown.
    //! The service never sends a different request for that number. It asks XorPay
    //! (`query2`) and, when XorPay holds it unpaid or does not know it, sends the identical
    //! request again, which XorPay answers with the same order (docs/protocol.md §3.6: an
    //! inference, never confirmed by XorPay; a different request would be `order_exist`). An
    //! order XorPay refuses for good is given up as expired (a late payment is still
    //! recorded). A barcode order is never sent twice: that could charge the payer twice.
    //!
    //! Implemented by `Payments::checkout` (`service/checkout.rs`), reconciliation
    //! (`service/reconcile.rs`) and the client's re-submission (`client/endpoints.rs`).
}

pub mod refund_in_doubt {
    //! # A refund is recorded in doubt before it is sent
    //!
    //! XorPay has no refund query: a refund whose answer is lost can only be settled by a
    //! person reading the merchant dashboard. So `Payments::refund` records each refund, under
    //! a key the merchant chooses, as *in doubt* in the store before sending it, and sends it
    //! only once that write applied; XorPay's answer is recorded afterwards (made, or not
    //! made). A refund in doubt counts as made against what is left, at most one is in doubt at
    //! a time, and a repeated request with the same key returns the first one's outcome
    //! instead of refunding twice. `Payments::resolve_refund` settles it from the dashboard,
    //! once the client's timeout has surely passed. A refund that could not be sent at all (no
    //! connection) is withdrawn, and its key can be used again.
    //!
    //! Implemented by `Payments::refund` and `Payments::resolve_refund` (`service/refund.rs`)
    //! over the paid order's refund list (`order/refunds.rs`).
}

pub mod fulfilment {
    //! # Every event told at least once, recorded once
    //!
    //! Every paid order is handed to the merchant's [`Hook`](crate::service::Hook) as
    //! `Event::Paid` at least once, and recorded fulfilled once. So is every other event: an
    //! order expired for good, a refund made or not made, an order needing a person. Each of
    //! those is written in the same transaction as the change that causes it, so none is lost
    //! to a crash between the two, and is written once whichever process or retry records it
    //! (one row per order, event and refund key).
    //!
    //! Each event is claimed first, under a token, for a lease counted on the database's
    //! clock: several processes sweeping at once never hand one event to the hook together,
    //! and a claim whose holder died is taken over once its lease ends. A holder killed after
    //! its hook ran and before it recorded it causes one more call: that is why the hook must
    //! be idempotent, keyed by the order number (and the refund's key). A hook that fails is
    //! called again one lease later; one that keeps failing holds up no other event. An event
    //! that no longer holds when its turn comes (a refund in doubt resolved meanwhile) is
    //! recorded without being told.
    //!
    //! A paid order's fulfilment is kept on the order's own row (recording a payment stays one
    //! write of one row); the other events in the store's event rows. Every instance records
    //! them, with a hook or not (the operator's command resolving a refund by hand has none);
    //! the instances with a hook tell them.
    //!
    //! Implemented by `Payments::run_hooks` (`service/fulfil.rs`, `service/tell.rs`), run by
    //! the background work after each recorded payment and every `sweep_every`; the events
    //! are chosen with each change in `service/record.rs` and `service/notices.rs`.
}
