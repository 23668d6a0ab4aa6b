//! A merchant's notify endpoint for tests that drive the client and the store by hand: it
//! hands every body to the test and answers with the status the test chose.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use tokio::sync::mpsc;
use xorpay::{AppSecret, Notification, VerifiedNotification};

/// A running notify endpoint on a loopback port.
pub(crate) struct Receiver {
    /// Its URL, for the client's `notify_url`.
    pub(crate) url: String,
    bodies: mpsc::UnboundedReceiver<Bytes>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    /// Answers HTTP 200 until told otherwise.
    pub(crate) async fn start() -> Receiver {
        let (sender, bodies) = mpsc::unbounded_channel();
        let status = Arc::new(AtomicU16::new(200));
        let answer = Arc::clone(&status);
        let app = axum::Router::new().route(
            "/notify",
            axum::routing::post(move |body: Bytes| {
                let sender = sender.clone();
                let answer = Arc::clone(&answer);
                async move {
                    let _ = sender.send(body);
                    let code = answer.load(Ordering::SeqCst);
                    (StatusCode::from_u16(code).unwrap_or(StatusCode::OK), "ok")
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/notify", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url,
            bodies,
            status,
        }
    }

    /// From now on, answer every notification with `status`.
    pub(crate) fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// The next notification body.
    pub(crate) async fn next_body(&mut self) -> Bytes {
        tokio::time::timeout(Duration::from_secs(10), self.bodies.recv())
            .await
            .expect("a notification within 10 s")
            .expect("the receiver is running")
    }

    /// The next notification, verified with `secret`.
    pub(crate) async fn next_verified(&mut self, secret: &str) -> VerifiedNotification {
        let body = self.next_body().await;
        Notification::parse(&body)
            .unwrap()
            .verify(&AppSecret::new(secret).unwrap())
            .unwrap()
    }
}

/// A stand-in for XorPay that answers every request to a path starting with `prefix` with
/// `status` and `body`, for answers the sandbox never gives (statuses XorPay may add, JSON
/// under an error status). Returns its base URL.
pub(crate) async fn scripted_xorpay(answers: Vec<(&'static str, u16, &'static str)>) -> String {
    let answers = Arc::new(answers);
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let answers = Arc::clone(&answers);
        async move {
            let path = uri.path().to_owned();
            match answers
                .iter()
                .find(|(prefix, _, _)| path.starts_with(prefix))
            {
                Some((_, status, body)) => (
                    StatusCode::from_u16(*status).unwrap(),
                    [("content-type", "application/json")],
                    *body,
                ),
                None => (
                    StatusCode::NOT_FOUND,
                    [("content-type", "text/plain")],
                    "not scripted",
                ),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}
