//! Fault injection: what a client or a shop must survive, on demand.
//!
//! **Per route** ([`Route`]): the next request(s) to one of XorPay's routes fail in one of the
//! ways real gateways fail ([`RouteFault`]):
//! - [`RouteFault::Http500`]: HTTP 500 with the short plain-text body an application server
//!   sends when it crashes (`Internal Server Error`).
//! - [`RouteFault::HtmlError`]: **HTTP 502** with nginx's HTML error page, which is what the
//!   reverse proxy in front of an application answers when the application is down. A client
//!   must not try to read it as JSON.
//! - [`RouteFault::Delay`]: the request is handled, and answered normally, only after the
//!   delay, as when it is slow to reach XorPay: a client's timeout fires first, and the route
//!   still runs after the client has given up (the order is created, the code charged, the
//!   refund made, late).
//! - [`RouteFault::DropConnection`]: the TCP connection is closed without any response after
//!   the request was read, as when a server process dies mid-request. Nothing is done.
//! - [`RouteFault::AnswerLost`]: the route does its work and commits it (the order is
//!   created, the code charged, the refund made; a notification is on its way), then the
//!   connection is closed without an answer: "XorPay did it, but the answer was lost".
//! - [`RouteFault::AnswerLate`]: the route does and commits its work at once, and answers
//!   only after the delay, so a client's timeout fires while the effect already stands.
//!
//! The delay and the dropped connection act *before* the route runs, the two answer faults
//! *after*: a client that meets a timeout or a closed connection cannot tell which happened,
//! which is why a call that changes something has an unknown outcome until it is queried.
//!
//! A fault applies to the next request(s) of its route, [`FaultTimes::Once`] (the default),
//! [`FaultTimes::Times`] or [`FaultTimes::Always`]; each faulted request uses up one. Setting a
//! fault on a route replaces the one it had. The sandbox-only routes under `/_sandbox/` never
//! fault.
//!
//! **Per order** ([`OrderFault`]): the notification of one order misbehaves. These faults shape
//! the **first** delivery attempt only; retries are ordinary single deliveries.
//! - [`OrderFault::Duplicate`]: the genuine notification is posted twice in a row, whatever the
//!   first answer was.
//! - [`OrderFault::Concurrent`]: `copies` identical genuine notifications are posted at the
//!   same moment.
//! - [`OrderFault::TamperedAmount`] / [`OrderFault::TamperedSignature`]: before the genuine
//!   notification, a forged one is posted: `pay_price` raised by 1.00 after signing, or a
//!   signature made with the wrong secret. The forgery never changes the order's state, even
//!   when the receiver (wrongly) answers 200; its attempt record shows what the receiver did.
//!
//! For an attempt that has copies, the delivery counts as acknowledged when any genuine copy
//! got HTTP 200.
//!
//! This module holds the faults and the ones in force; the `inject` middleware applies them
//! to requests, and `delivery` to notifications.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// One of XorPay's routes, as a target for a [`RouteFault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Route {
    /// `POST /api/pay/{aid}`.
    Pay,
    /// `GET|POST /api/cashier/{aid}`.
    Cashier,
    /// `POST /api/barcode_pay/{aid}`.
    Barcode,
    /// `GET /api/query/{aoid}`.
    Query,
    /// `GET /api/query2/{aid}`.
    Query2,
    /// `POST /api/refund/{aoid}`.
    Refund,
    /// `GET /api/openid/{aid}`.
    Openid,
    /// `GET /qr`.
    Qr,
}

impl Route {
    /// Every route, in the order of docs/protocol.md §2.
    pub const ALL: [Route; 8] = [
        Route::Pay,
        Route::Cashier,
        Route::Barcode,
        Route::Openid,
        Route::Query,
        Route::Query2,
        Route::Refund,
        Route::Qr,
    ];
}

/// How a faulted request fails. See the [module docs](self) for what each one looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RouteFault {
    /// HTTP 500, body `Internal Server Error` (text/plain).
    Http500,
    /// HTTP 502 with nginx's HTML error page (text/html).
    HtmlError,
    /// Handle the request after this delay, whether or not the client is still waiting.
    Delay {
        /// The delay in milliseconds.
        ms: u64,
    },
    /// Close the TCP connection without a response, before the route runs.
    DropConnection,
    /// Run the route and commit its effect, then close the connection without a response.
    AnswerLost,
    /// Run the route and commit its effect at once, then answer after this delay.
    AnswerLate {
        /// The delay in milliseconds.
        ms: u64,
    },
}

impl RouteFault {
    /// A [`RouteFault::Delay`] of `delay` (rounded down to whole milliseconds).
    pub fn delay(delay: Duration) -> RouteFault {
        RouteFault::Delay { ms: millis(delay) }
    }

    /// A [`RouteFault::AnswerLate`] of `delay` (rounded down to whole milliseconds).
    pub fn answer_late(delay: Duration) -> RouteFault {
        RouteFault::AnswerLate { ms: millis(delay) }
    }
}

fn millis(delay: Duration) -> u64 {
    u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)
}

/// How many requests a [`RouteFault`] applies to.
///
/// In JSON: a positive number, or `"always"`; when absent, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FaultTimes {
    /// The next request only.
    #[default]
    Once,
    /// The next `n` requests (0 is treated as 1).
    Times(u32),
    /// Every request, until the faults are cleared.
    Always,
}

impl FaultTimes {
    fn remaining(self) -> Option<u32> {
        match self {
            FaultTimes::Once => Some(1),
            FaultTimes::Times(n) => Some(n.max(1)),
            FaultTimes::Always => None,
        }
    }
}

impl Serialize for FaultTimes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.remaining() {
            Some(n) => serializer.serialize_u32(n),
            None => serializer.serialize_str("always"),
        }
    }
}

impl<'de> Deserialize<'de> for FaultTimes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<FaultTimes, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Count(u32),
            Word(String),
        }
        match Wire::deserialize(deserializer)? {
            Wire::Count(0) => Err(serde::de::Error::custom("times must be at least 1")),
            Wire::Count(1) => Ok(FaultTimes::Once),
            Wire::Count(n) => Ok(FaultTimes::Times(n)),
            Wire::Word(word) if word == "always" => Ok(FaultTimes::Always),
            Wire::Word(word) => Err(serde::de::Error::custom(format!(
                "times must be a positive number or \"always\", not {word:?}"
            ))),
        }
    }
}

/// A fault injected into the notification of one order. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum OrderFault {
    /// Post the genuine notification twice in a row.
    Duplicate,
    /// Post `copies` identical genuine notifications at the same moment (2 to
    /// [`OrderFault::MAX_COPIES`]).
    Concurrent {
        /// How many copies.
        copies: u32,
    },
    /// First post a forgery whose `pay_price` was raised by 1.00 after signing.
    TamperedAmount,
    /// First post a forgery signed with the wrong secret.
    TamperedSignature,
}

impl OrderFault {
    /// The most concurrent copies the sandbox sends.
    pub const MAX_COPIES: u32 = 64;

    /// `Concurrent` with its copies clamped to 2..=[`OrderFault::MAX_COPIES`].
    pub(crate) fn normalised(self) -> OrderFault {
        match self {
            OrderFault::Concurrent { copies } => OrderFault::Concurrent {
                copies: copies.clamp(2, OrderFault::MAX_COPIES),
            },
            other => other,
        }
    }
}

/// A route fault as configured, with what is left of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteFaultRule {
    /// The route it applies to.
    pub route: Route,
    /// How requests fail.
    pub fault: RouteFault,
    /// How many more requests it applies to.
    #[serde(default)]
    pub times: FaultTimes,
}

/// The route faults in force.
#[derive(Debug, Default)]
pub(crate) struct RouteFaults(HashMap<Route, (RouteFault, Option<u32>)>);

impl RouteFaults {
    pub(crate) fn set(&mut self, route: Route, fault: RouteFault, times: FaultTimes) {
        self.0.insert(route, (fault, times.remaining()));
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    /// The fault for this request, using one up.
    pub(crate) fn take(&mut self, route: Route) -> Option<RouteFault> {
        let (fault, remaining) = self.0.get_mut(&route)?;
        let fault = *fault;
        match remaining {
            Some(1) => {
                self.0.remove(&route);
            }
            Some(n) => *n -= 1,
            None => {}
        }
        Some(fault)
    }

    pub(crate) fn list(&self) -> Vec<RouteFaultRule> {
        let mut rules: Vec<RouteFaultRule> = self
            .0
            .iter()
            .map(|(route, (fault, remaining))| RouteFaultRule {
                route: *route,
                fault: *fault,
                times: match remaining {
                    Some(1) => FaultTimes::Once,
                    Some(n) => FaultTimes::Times(*n),
                    None => FaultTimes::Always,
                },
            })
            .collect();
        rules.sort_by_key(|rule| rule.route);
        rules
    }
}

/// Put into every request's extensions by the accept loop: firing it makes the connection's
/// task drop the connection, which closes the socket without writing a response.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectionKill(pub(crate) Arc<Notify>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_used_up() {
        let mut faults = RouteFaults::default();
        faults.set(Route::Pay, RouteFault::Http500, FaultTimes::Times(2));
        faults.set(Route::Qr, RouteFault::HtmlError, FaultTimes::Always);
        assert_eq!(faults.take(Route::Pay), Some(RouteFault::Http500));
        assert_eq!(faults.list()[0].times, FaultTimes::Once);
        assert_eq!(faults.take(Route::Pay), Some(RouteFault::Http500));
        assert_eq!(faults.take(Route::Pay), None);
        for _ in 0..5 {
            assert_eq!(faults.take(Route::Qr), Some(RouteFault::HtmlError));
        }
        assert_eq!(faults.take(Route::Query), None);
    }

    #[test]
    fn json_forms() {
        let rule: RouteFaultRule =
            serde_json::from_str(r#"{"route":"query2","fault":{"kind":"delay","ms":50}}"#).unwrap();
        assert_eq!(rule.times, FaultTimes::Once);
        assert_eq!(rule.fault, RouteFault::delay(Duration::from_millis(50)));
        let rule: RouteFaultRule = serde_json::from_str(
            r#"{"route":"pay","fault":{"kind":"drop_connection"},"times":"always"}"#,
        )
        .unwrap();
        assert_eq!(rule.times, FaultTimes::Always);
        assert!(
            serde_json::from_str::<RouteFaultRule>(
                r#"{"route":"pay","fault":{"kind":"http500"},"times":0}"#
            )
            .is_err()
        );
        let fault: OrderFault =
            serde_json::from_str(r#"{"kind":"concurrent","copies":3}"#).unwrap();
        assert_eq!(fault, OrderFault::Concurrent { copies: 3 });
        assert_eq!(
            serde_json::to_string(&OrderFault::TamperedSignature).unwrap(),
            r#"{"kind":"tampered_signature"}"#
        );
    }
}
