//! What the service reports through the [`metrics`](https://docs.rs/metrics) facade (feature
//! `metrics`): notifications by result, calls to XorPay with their duration, order
//! transitions, reconciliation outcomes, refunds, hook runs, and four gauges of the order
//! book. The application installs the recorder and picks the exporter; without one, every
//! report costs nothing but a check.
//!
//! [`METRICS`] lists every metric with its kind, unit, labels and the values each label takes:
//! the one list the code reports from and `docs/metrics.md` is checked against. Names are
//! dot-separated (`xorpay.notifications`); an exporter spells them its own way (Prometheus:
//! `xorpay_notifications_total` with `with_recommended_naming(true)`).
//!
//! ```no_run
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // The application's exporter, installed before the service is built…
//! // let handle = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
//! // …and described once it is: `Payments::builder().build()` describes every metric too.
//! xorpay::metrics::describe();
//! # Ok(()) }
//! ```
//!
//! The gauges are read from the store once per reconciliation pass, through its indexes, not
//! on every scrape. They count the whole database scope of the service (one merchant's
//! orders), so several instances on one database report the same values: aggregate them with
//! `max`, never `sum`.

/// What a metric is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Only goes up; graph its rate.
    Counter,
    /// A value read at one moment.
    Gauge,
    /// A distribution of observed values.
    Histogram,
}

/// One label of a metric and every value it takes.
#[derive(Debug, Clone, Copy)]
pub struct Label {
    /// The label's name.
    pub name: &'static str,
    /// Every value it takes; `*` for a value that is the merchant's own (its `aid`).
    pub values: &'static [&'static str],
}

/// One metric the service reports.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// The facade name, dot-separated.
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// The unit, if not a plain count: `seconds`.
    pub unit: Option<&'static str>,
    /// Its labels.
    pub labels: &'static [Label],
    /// What it counts or measures.
    pub help: &'static str,
}

impl Metric {
    /// The name Prometheus' exporter gives it with recommended naming: dots as underscores,
    /// then the unit, then `_total` for a counter.
    pub fn prometheus_name(&self) -> String {
        let mut name = self.name.replace('.', "_");
        if let Some(unit) = self.unit {
            name.push('_');
            name.push_str(unit);
        }
        if self.kind == MetricKind::Counter {
            name.push_str("_total");
        }
        name
    }
}

const ENDPOINTS: &[&str] = &["pay", "barcode_pay", "query", "query2", "refund"];
const STATES: &[&str] = &["created", "pending", "paid", "expired"];
const AID: &[Label] = &[Label {
    name: "aid",
    values: &["*"],
}];

/// Every metric the service reports.
pub const METRICS: &[Metric] = &[
    Metric {
        name: NOTIFICATIONS,
        kind: MetricKind::Counter,
        unit: None,
        labels: &[Label {
            name: "result",
            values: Notified::ALL,
        }],
        help: "Notifications received, by what was answered: acknowledged (this delivery \
               recorded the payment), duplicate (already recorded), or why it was refused.",
    },
    Metric {
        name: REQUESTS,
        kind: MetricKind::Counter,
        unit: None,
        labels: &[
            Label {
                name: "endpoint",
                values: ENDPOINTS,
            },
            Label {
                name: "outcome",
                values: Answered::ALL,
            },
        ],
        help: "Requests sent to XorPay, by endpoint and outcome (each retry of a query counts).",
    },
    Metric {
        name: REQUEST_DURATION,
        kind: MetricKind::Histogram,
        unit: Some("seconds"),
        labels: &[Label {
            name: "endpoint",
            values: ENDPOINTS,
        }],
        help: "How long XorPay took to answer a request, or to fail.",
    },
    Metric {
        name: TRANSITIONS,
        kind: MetricKind::Counter,
        unit: None,
        labels: &[
            Label {
                name: "from",
                values: STATES,
            },
            Label {
                name: "to",
                values: STATES,
            },
        ],
        help: "Orders moved from one state to another, as recorded by the store.",
    },
    Metric {
        name: RECONCILED,
        kind: MetricKind::Counter,
        unit: None,
        labels: &[Label {
            name: "outcome",
            values: Reconciled::ALL,
        }],
        help: "Orders reconciliation asked XorPay about, by what it recorded.",
    },
    Metric {
        name: REFUNDS,
        kind: MetricKind::Counter,
        unit: None,
        labels: &[Label {
            name: "outcome",
            values: Refunded::ALL,
        }],
        help: "Refunds asked for, by outcome (made, refused, in doubt, not sent: XorPay \
               unreachable), and refunds in doubt resolved by hand (resolved_made, \
               resolved_not_made).",
    },
    Metric {
        name: HOOK_RUNS,
        kind: MetricKind::Counter,
        unit: None,
        labels: &[
            Label {
                name: "event",
                values: HOOK_EVENTS,
            },
            Label {
                name: "outcome",
                values: HookRun::ALL,
            },
        ],
        help: "Runs of the merchant's hook, by event and outcome: done (recorded), failed \
               (handed over again one lease later), taken_over (its lease ended first; \
               another claimer runs it again).",
    },
    Metric {
        name: GAUGE_READ_FAILURES,
        kind: MetricKind::Counter,
        unit: None,
        labels: &[],
        help: "Reads of the order book's gauges that failed: the gauges keep their last \
               values, so alert on this too.",
    },
    Metric {
        name: PENDING,
        kind: MetricKind::Gauge,
        unit: None,
        labels: AID,
        help: "Orders XorPay accepted and that are not paid yet (database-wide: take max \
               across instances).",
    },
    Metric {
        name: OLDEST_PENDING_AGE,
        kind: MetricKind::Gauge,
        unit: Some("seconds"),
        labels: AID,
        help: "How long ago the oldest pending order was accepted by XorPay; 0 with none \
               (database-wide: take max across instances).",
    },
    Metric {
        name: REFUNDS_IN_DOUBT,
        kind: MetricKind::Gauge,
        unit: None,
        labels: AID,
        help: "Refunds whose outcome is unknown until someone resolves them (database-wide: \
               take max across instances).",
    },
    Metric {
        name: ATTENTION,
        kind: MetricKind::Gauge,
        unit: None,
        labels: AID,
        help: "Orders a person must act on: a refund in doubt, an aoid only XorPay's \
               dashboard can tell, fee_error (database-wide: take max across instances).",
    },
];

const NOTIFICATIONS: &str = "xorpay.notifications";
const REQUESTS: &str = "xorpay.requests";
const REQUEST_DURATION: &str = "xorpay.request.duration";
const TRANSITIONS: &str = "xorpay.transitions";
const RECONCILED: &str = "xorpay.reconciled";
const REFUNDS: &str = "xorpay.refunds";
const HOOK_RUNS: &str = "xorpay.hook.runs";
const GAUGE_READ_FAILURES: &str = "xorpay.gauges.read_failures";
const PENDING: &str = "xorpay.orders.pending";
const OLDEST_PENDING_AGE: &str = "xorpay.orders.oldest_pending.age";
const REFUNDS_IN_DOUBT: &str = "xorpay.refunds.in_doubt";
const ATTENTION: &str = "xorpay.orders.attention";

/// The events the hook is run for.
const HOOK_EVENTS: &[&str] = &[
    "paid",
    "expired",
    "refund_made",
    "refund_not_made",
    "attention",
];

/// Describes every metric to the installed recorder: its unit and meaning. `build()` calls
/// it; call it again if the recorder is installed after the service is built.
pub fn describe() {
    #[cfg(feature = "metrics")]
    for metric in METRICS {
        let unit = match metric.unit {
            Some("seconds") => ::metrics::Unit::Seconds,
            _ => ::metrics::Unit::Count,
        };
        match metric.kind {
            MetricKind::Counter => {
                ::metrics::describe_counter!(metric.name, unit, metric.help);
                register_at_zero(metric);
            }
            MetricKind::Gauge => ::metrics::describe_gauge!(metric.name, unit, metric.help),
            MetricKind::Histogram => {
                ::metrics::describe_histogram!(metric.name, unit, metric.help)
            }
        }
    }
}

/// Registers every series of a counter (each combination of its label values) without
/// changing it: a series that first appears at 1 is invisible to `increase()`, so the first
/// `fee_error` would raise no alert.
#[cfg(feature = "metrics")]
fn register_at_zero(metric: &Metric) {
    let mut series: Vec<Vec<::metrics::Label>> = vec![Vec::new()];
    for label in metric.labels {
        series = series
            .into_iter()
            .flat_map(|labels| {
                label.values.iter().map(move |value| {
                    let mut labels = labels.clone();
                    labels.push(::metrics::Label::new(label.name, *value));
                    labels
                })
            })
            .collect();
    }
    for labels in series {
        ::metrics::counter!(metric.name, labels).increment(0);
    }
}

/// Declares a label's values as an enum with its names, listed in `ALL`.
macro_rules! label_values {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $value:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum $name {
            $($variant,)*
        }

        impl $name {
            const ALL: &'static [&'static str] = &[$($value),*];

            #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
            fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)*
                }
            }
        }
    };
}

label_values! {
    /// What a notification was answered.
    Notified {
        Acknowledged => "acknowledged",
        Duplicate => "duplicate",
        BadSignature => "bad_signature",
        Malformed => "malformed",
        TooLarge => "too_large",
        Mismatch => "mismatch",
        UnknownOrder => "unknown_order",
        UnknownMerchant => "unknown_merchant",
        Conflict => "conflict",
        QueryFailed => "query_failed",
        StoreError => "store_error",
    }
}

label_values! {
    /// What a request to XorPay came to.
    Answered {
        Ok => "ok",
        Refused => "refused",
        Timeout => "timeout",
        Unreachable => "unreachable",
        Connection => "connection",
        BadAnswer => "bad_answer",
    }
}

label_values! {
    /// What reconciliation recorded for one order.
    Reconciled {
        Paid => "paid",
        Recovered => "recovered",
        Expired => "expired",
        FeeError => "fee_error",
        Open => "open",
        Failed => "failed",
        Superseded => "superseded",
    }
}

label_values! {
    /// What became of a refund.
    Refunded {
        Made => "made",
        Refused => "refused",
        InDoubt => "in_doubt",
        NotSent => "not_sent",
        ResolvedMade => "resolved_made",
        ResolvedNotMade => "resolved_not_made",
    }
}

label_values! {
    /// What one run of the hook came to.
    HookRun {
        Done => "done",
        Failed => "failed",
        TakenOver => "taken_over",
    }
}

/// A notification answered.
pub(crate) fn notified(result: Notified) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(NOTIFICATIONS, "result" => result.as_str()).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = result;
}

/// A request to XorPay answered (or failed) after `took`.
pub(crate) fn requested(endpoint: &'static str, outcome: Answered, took: core::time::Duration) {
    #[cfg(feature = "metrics")]
    {
        ::metrics::counter!(REQUESTS, "endpoint" => endpoint, "outcome" => outcome.as_str())
            .increment(1);
        ::metrics::histogram!(REQUEST_DURATION, "endpoint" => endpoint).record(took);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (endpoint, outcome, took);
}

/// An order moved from one state to another.
pub(crate) fn transition(from: &'static str, to: &'static str) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(TRANSITIONS, "from" => from, "to" => to).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (from, to);
}

/// Reconciliation recorded `count` orders so.
pub(crate) fn reconciled(outcome: Reconciled, count: usize) {
    #[cfg(feature = "metrics")]
    if count > 0 {
        ::metrics::counter!(RECONCILED, "outcome" => outcome.as_str())
            .increment(u64::try_from(count).unwrap_or(u64::MAX));
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (outcome, count);
}

/// A refund came to `outcome`.
pub(crate) fn refunded(outcome: Refunded) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(REFUNDS, "outcome" => outcome.as_str()).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = outcome;
}

/// The hook ran for `event`.
pub(crate) fn hook_ran(event: &'static str, outcome: HookRun) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(HOOK_RUNS, "event" => event, "outcome" => outcome.as_str()).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (event, outcome);
}

/// The order book's gauges, as read once per reconciliation pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Book {
    pub(crate) pending: u64,
    pub(crate) oldest_pending_age_secs: u64,
    pub(crate) refunds_in_doubt: u64,
    pub(crate) attention: u64,
}

/// A read of the gauges failed.
pub(crate) fn gauges_failed() {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(GAUGE_READ_FAILURES).increment(1);
}

/// Sets the gauges of the merchant `aid`.
pub(crate) fn book(aid: &str, book: Book) {
    #[cfg(feature = "metrics")]
    {
        let aid = aid.to_owned();
        for (name, value) in [
            (PENDING, book.pending),
            (OLDEST_PENDING_AGE, book.oldest_pending_age_secs),
            (REFUNDS_IN_DOUBT, book.refunds_in_doubt),
            (ATTENTION, book.attention),
        ] {
            // Exact below 2^53: far beyond any order book.
            ::metrics::gauge!(name, "aid" => aid.clone()).set(value as f64);
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (aid, book);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_value_reported_is_listed_once() {
        for metric in METRICS {
            for label in metric.labels {
                let mut values = label.values.to_vec();
                values.sort_unstable();
                values.dedup();
                assert_eq!(values.len(), label.values.len(), "{}", metric.name);
            }
        }
        let names: Vec<_> = METRICS.iter().map(|metric| metric.name).collect();
        for name in [
            NOTIFICATIONS,
            REQUESTS,
            REQUEST_DURATION,
            TRANSITIONS,
            RECONCILED,
            REFUNDS,
            HOOK_RUNS,
            GAUGE_READ_FAILURES,
            PENDING,
            OLDEST_PENDING_AGE,
            REFUNDS_IN_DOUBT,
            ATTENTION,
        ] {
            assert_eq!(names.iter().filter(|n| **n == name).count(), 1, "{name}");
        }
    }

    #[test]
    fn prometheus_names_follow_recommended_naming() {
        let name = |n| {
            METRICS
                .iter()
                .find(|metric| metric.name == n)
                .unwrap()
                .prometheus_name()
        };
        assert_eq!(name(NOTIFICATIONS), "xorpay_notifications_total");
        assert_eq!(name(REQUEST_DURATION), "xorpay_request_duration_seconds");
        assert_eq!(
            name(OLDEST_PENDING_AGE),
            "xorpay_orders_oldest_pending_age_seconds"
        );
        assert_eq!(name(PENDING), "xorpay_orders_pending");
    }
}
