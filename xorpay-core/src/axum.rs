//! axum integration (feature `axum`): the notify route the service hands out, and the
//! responses XorPay reads.
//!
//! ```no_run
//! use xorpay::prelude::*;
//!
//! # #[derive(XorPayOrder, serde::Serialize, serde::Deserialize)]
//! # #[xorpay(kind = native, notify_url = from_client)]
//! # struct Coffee { #[xorpay(order_id)] id: String, #[xorpay(name)] name: String, #[xorpay(price)] price: Price }
//! fn app(payments: &Payments<Coffee, SqliteStore>) -> axum::Router {
//!     axum::Router::new().route("/xorpay/notify", payments.notify_route())
//! }
//! ```
//!
//! The route reads the raw body (at most [`Notification::MAX_BODY`] bytes), has the service
//! verify and record it ([`Payments::confirm`]), and answers `200 ok` only after the payment
//! is durable; anything else gets a non-200 status, so that XorPay notifies again. It takes
//! the secret from the service and needs no application state.

use ::axum::body::Body;
use ::axum::extract::Request;
use ::axum::http::StatusCode;
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::MethodRouter;

use crate::notify::Notification;
use crate::service::{Acknowledgement, NotifyError, Payments, ServiceOrder};
use crate::store::OrderStore;

impl<O: ServiceOrder, S: OrderStore> Payments<O, S> {
    /// The `POST` route XorPay notifies: mount it at the path of the service's `notify_url`.
    /// It fits a router of any state.
    pub fn notify_route<T: Clone + Send + Sync + 'static>(&self) -> MethodRouter<T> {
        let payments = self.clone();
        ::axum::routing::post(move |request: Request<Body>| {
            let payments = payments.clone();
            async move { payments.notify_response(request).await }
        })
    }

    async fn notify_response(&self, request: Request<Body>) -> Response {
        let Ok(body) = ::axum::body::to_bytes(request.into_body(), Notification::MAX_BODY).await
        else {
            tracing::warn!("xorpay notification body unreadable or too large");
            return (StatusCode::PAYLOAD_TOO_LARGE, "refused").into_response();
        };
        match self.confirm(&body).await {
            Ok(confirmed) => confirmed.into_parts().1.into_response(),
            Err(error) => error.into_response(),
        }
    }
}

impl IntoResponse for Acknowledgement {
    /// HTTP 200 with body `ok`: XorPay stops notifying.
    fn into_response(self) -> Response {
        (StatusCode::OK, Acknowledgement::BODY).into_response()
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
