//! axum integration (feature `axum`): the router that serves XorPay's notifications.
//!
//! ```no_run
//! use xorpay::prelude::*;
//!
//! # #[derive(XorPayOrder, serde::Serialize, serde::Deserialize)]
//! # #[xorpay(kind = native, notify_url = from_client)]
//! # struct Coffee { #[xorpay(order_id)] id: String, #[xorpay(name)] name: String, #[xorpay(price)] price: Price }
//! fn app(payments: &Payments<Coffee>) -> axum::Router {
//!     // The router serves the path of the service's notify_url; merge it into the rest.
//!     axum::Router::new()
//!         .route("/", axum::routing::get(|| async { "shop" }))
//!         .merge(payments.router())
//! }
//! ```
//!
//! The route reads the raw body (at most [`Notification::MAX_BODY`] bytes), has the service
//! verify and record it ([`Payments::answer`]), and answers what it decided
//! ([`guarantees::acknowledgement`](crate::service::guarantees::acknowledgement)).

use ::axum::body::Body;
use ::axum::extract::{DefaultBodyLimit, Request};
use ::axum::http::StatusCode;
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::post;

use crate::merchants::Merchants;
use crate::metrics::{self, Notified};
use crate::notify::Notification;
use crate::service::{Confirmed, NotifyAnswer, NotifyError, Payments, ServiceOrder};

impl<O: ServiceOrder> Payments<O> {
    /// An axum router that serves XorPay's notifications at the path of the service's
    /// `notify_url` (`POST`), so the two cannot disagree. Merge it into the application's
    /// router (after `with_state`, if the application has state), or serve it alone.
    ///
    /// A proxy in front that rewrites paths is the one reason to serve another path: set it
    /// with `Payments::builder().notify_path(…)`.
    pub fn router(&self) -> ::axum::Router {
        let payments = self.clone();
        let route = post(move |request: Request<Body>| {
            let payments = payments.clone();
            async move { payments.notify_response(request).await }
        })
        // Refused before reading more than the parser would take, not after axum's 2 MB.
        .layer(DefaultBodyLimit::max(Notification::MAX_BODY));
        ::axum::Router::new().route(self.notify_path(), route)
    }

    async fn notify_response(&self, request: Request<Body>) -> Response {
        let Ok(body) = ::axum::body::to_bytes(request.into_body(), Notification::MAX_BODY).await
        else {
            tracing::warn!("xorpay notification body unreadable or too large");
            metrics::notified(Notified::TooLarge);
            return (StatusCode::PAYLOAD_TOO_LARGE, "refused").into_response();
        };
        self.answer(&body).await.into_response()
    }
}

impl<O: ServiceOrder> Merchants<O> {
    /// An axum router that serves every merchant's notifications at
    /// `{notify base path}/{merchant}` (`POST`): the merchant is looked up in memory, and a
    /// name the merchant table does not have is answered 404 ([`Merchants::answer`]).
    pub fn router(&self) -> ::axum::Router {
        let merchants = self.clone();
        let route = post(
            move |::axum::extract::Path(name): ::axum::extract::Path<String>,
                  request: Request<Body>| {
                let merchants = merchants.clone();
                async move {
                    let Ok(body) =
                        ::axum::body::to_bytes(request.into_body(), Notification::MAX_BODY).await
                    else {
                        tracing::warn!("xorpay notification body unreadable or too large");
                        metrics::notified(Notified::TooLarge);
                        return (StatusCode::PAYLOAD_TOO_LARGE, "refused").into_response();
                    };
                    merchants.answer(&name, &body).await.into_response()
                }
            },
        )
        .layer(DefaultBodyLimit::max(Notification::MAX_BODY));
        ::axum::Router::new().route(&format!("{}/{{merchant}}", self.notify_prefix()), route)
    }
}

impl IntoResponse for NotifyAnswer {
    /// [`NotifyAnswer::status`] with [`NotifyAnswer::body`].
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        (status, self.body()).into_response()
    }
}

impl IntoResponse for Confirmed {
    /// HTTP 200 with body `ok`: XorPay stops notifying.
    fn into_response(self) -> Response {
        (StatusCode::OK, Confirmed::BODY).into_response()
    }
}

impl IntoResponse for NotifyError {
    /// [`NotifyError::status`], never 200, so that XorPay notifies again.
    fn into_response(self) -> Response {
        tracing::warn!(error = %self, "xorpay notification not applied");
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        (status, "refused").into_response()
    }
}
