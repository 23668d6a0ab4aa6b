//! What the hook sweep does under a claim: the claim's token, and telling the hook within the
//! claim's lease.

use core::time::Duration;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::hook::{Erased, Event};

/// A claim token nobody else holds: a per-process random part and a counter.
pub(super) fn token() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!(
        "{random:016x}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Tells the hook of `event` within what is left of a lease taken at `claimed` (past it, the
/// claim could pass to another instance mid-hook): whether it was told. A failure is logged.
pub(super) async fn tell_within<O>(
    hook: &dyn Erased<O>,
    event: Event<'_, O>,
    lease: Duration,
    claimed: Instant,
) -> bool {
    let (name, order_id) = (event.name(), event.order_id().to_owned());
    let left = lease.mul_f64(0.9).saturating_sub(claimed.elapsed());
    match tokio::time::timeout(left, hook.call(event)).await {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::warn!(order_id, event = name, %error, "hook failed");
            false
        }
        Err(_) => {
            tracing::warn!(order_id, event = name, "hook outlasted its lease");
            false
        }
    }
}
