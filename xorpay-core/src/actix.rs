//! actix-web integration (feature `actix-web`): the service that serves XorPay's
//! notifications, for actix-web 4.
//!
//! ```no_run
//! use xorpay::prelude::*;
//!
//! # #[derive(XorPayOrder, serde::Serialize, serde::Deserialize)]
//! # #[xorpay(kind = native, notify_url = from_client)]
//! # struct Coffee { #[xorpay(order_id)] id: String, #[xorpay(name)] name: String, #[xorpay(price)] price: Price }
//! async fn serve(payments: Payments<Coffee>) -> std::io::Result<()> {
//!     actix_web::HttpServer::new(move || {
//!         // The resource serves the path of the service's notify_url, beside the shop's own.
//!         actix_web::App::new().service(payments.actix_resource())
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! The resource reads the raw body (at most [`Notification::MAX_BODY`] bytes; actix answers
//! 413 beyond), has the service verify and record it ([`Payments::answer`]), and answers what
//! it decided ([`guarantees::acknowledgement`](crate::service::guarantees::acknowledgement)).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, Resource, web};

use crate::metrics::{self, Notified};
use crate::notify::Notification;
use crate::service::{Payments, ServiceOrder};

impl<O: ServiceOrder> Payments<O> {
    /// An actix-web resource that serves XorPay's notifications at the path of the service's
    /// `notify_url` (`POST`), so the two cannot disagree: add it to the application with
    /// `App::service`. `Payments` is cheap to clone; clone it into each worker's `App`.
    ///
    /// A proxy in front that rewrites paths is the one reason to serve another path: set it
    /// with `Payments::builder().notify_path(…)`.
    pub fn actix_resource(&self) -> Resource {
        let payments = self.clone();
        web::resource(self.notify_path())
            .app_data(web::PayloadConfig::new(Notification::MAX_BODY))
            .route(
                web::post().to(move |body: Result<web::Bytes, actix_web::Error>| {
                    let payments = payments.clone();
                    async move {
                        // Refused (too large, unreadable) before it is read: counted, answered 413.
                        let Ok(body) = body else {
                            tracing::warn!("xorpay notification body unreadable or too large");
                            metrics::notified(Notified::TooLarge);
                            return HttpResponse::build(StatusCode::PAYLOAD_TOO_LARGE)
                                .content_type("text/plain")
                                .body("refused");
                        };
                        let answer = payments.answer(&body).await;
                        let status = StatusCode::from_u16(answer.status())
                            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                        HttpResponse::build(status)
                            .content_type("text/plain")
                            .body(answer.body())
                    }
                }),
            )
    }
}
