//! A merchant's notify endpoint on loopback: it records every request, and answers each as
//! the test planned (a status and a delay), or as the test last said.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The body, as sent.
    pub body: Vec<u8>,
    /// The `content-type` header.
    pub content_type: String,
    /// The body's form fields, decoded.
    pub fields: HashMap<String, String>,
    /// When it arrived.
    pub at: Instant,
    /// The status it was answered with.
    pub answered: u16,
}

/// How a receiver answers its `n`th request (from 0), given the body: the status and a delay
/// before it.
pub type Plan = Arc<dyn Fn(usize, &[u8]) -> (u16, Duration) + Send + Sync>;

/// A running notify endpoint, at `url` (`http://127.0.0.1:…/notify`). Stopped on drop.
pub struct Receiver {
    /// Its URL: the `notify_url` to give.
    pub url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    arrivals: Arc<AtomicUsize>,
    /// A status that overrides the plan, 0 for none.
    status: Arc<AtomicU16>,
    /// How many hits [`Receiver::next_body`] has handed out.
    read: usize,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Answers as `plan` says.
    pub async fn start(plan: Plan) -> Receiver {
        Receiver::start_gated(plan, None).await
    }

    /// Answers 200 to everything, until [`Receiver::answer`] says otherwise.
    pub async fn ok() -> Receiver {
        Receiver::start(Arc::new(|_, _| (200, Duration::ZERO))).await
    }

    /// Answers `status` to the first `failures` requests, then 200.
    pub async fn failing(failures: usize, status: u16) -> Receiver {
        Receiver::start(Arc::new(move |index, _| {
            (if index < failures { status } else { 200 }, Duration::ZERO)
        }))
        .await
    }

    /// Like [`Receiver::start`], but every request waits for a permit of `gate` before it
    /// is answered (and recorded).
    pub async fn start_gated(plan: Plan, gate: Option<Arc<Semaphore>>) -> Receiver {
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let arrivals = Arc::new(AtomicUsize::new(0));
        let status = Arc::new(AtomicU16::new(0));
        let (recorded, counter, forced) = (
            Arc::clone(&hits),
            Arc::clone(&arrivals),
            Arc::clone(&status),
        );
        let handler = move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let (plan, hits, counter, forced) = (
                Arc::clone(&plan),
                Arc::clone(&recorded),
                Arc::clone(&counter),
                Arc::clone(&forced),
            );
            let gate = gate.clone();
            async move {
                let at = Instant::now();
                let index = counter.fetch_add(1, Ordering::SeqCst);
                if let Some(gate) = gate {
                    gate.acquire().await.expect("the gate is open").forget();
                }
                let (planned, delay) = plan(index, &body);
                let status = match forced.load(Ordering::SeqCst) {
                    0 => planned,
                    forced => forced,
                };
                tokio::time::sleep(delay).await;
                hits.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(Hit {
                        fields: form_urlencoded::parse(&body).into_owned().collect(),
                        content_type: headers
                            .get("content-type")
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or("")
                            .to_owned(),
                        body: body.to_vec(),
                        at,
                        answered: status,
                    });
                (
                    axum::http::StatusCode::from_u16(status)
                        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
                    if status == 200 { "ok" } else { "fail" },
                )
            }
        };
        let app = axum::Router::new().route("/notify", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("a loopback port");
        let url = format!(
            "http://{}/notify",
            listener.local_addr().expect("a bound listener")
        );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url,
            hits,
            arrivals,
            status,
            read: 0,
            server,
        }
    }

    /// From now on, answer every request with `status`, whatever the plan says.
    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// How many requests have arrived, answered or not.
    pub fn arrivals(&self) -> usize {
        self.arrivals.load(Ordering::SeqCst)
    }

    /// Every request answered so far, in order.
    pub fn hits(&self) -> Vec<Hit> {
        self.hits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The body of the next request answered after those already handed out; waits up to
    /// 10 s for it.
    pub async fn next_body(&mut self) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(hit) = self.hits().get(self.read) {
                self.read += 1;
                return hit.body.clone();
            }
            assert!(Instant::now() < deadline, "no notification within 10 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}
