//! The shop's `/metrics`: what xorpay reports (docs/metrics.md), in Prometheus' text format,
//! rendered when scraped. Behind the admin token when one is set (`?token=` or
//! `Authorization: Bearer`).

use std::sync::OnceLock;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::state::Shop;

/// The process's recorder, installed on first use: the `metrics` facade has one per process.
/// Install it before the service is built, which describes every metric to it.
pub(crate) fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                // `_total` on counters, the unit on the duration: Prometheus' conventions.
                .with_recommended_naming(true)
                // XorPay's answers: tens of milliseconds on a good day, the timeout on a bad one.
                .set_buckets(&[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0])
                .expect("the buckets are not empty")
                .install_recorder()
                .expect("no other recorder is installed in this process")
        })
        .clone()
}

/// The route.
pub(crate) fn router() -> Router<Shop> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(
    State(shop): State<Shop>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let allowed = match bearer {
        Some(token) => shop.admin_allowed(Some(&format!("token={token}"))),
        None => shop.admin_allowed(query.as_deref()),
    };
    if !allowed {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let handle = &shop.config().metrics;
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
