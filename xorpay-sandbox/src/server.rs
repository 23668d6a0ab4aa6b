//! The running sandbox: starting it from its configuration, the accept loop, and the
//! [`Sandbox`] handle that tests, examples and the binary hold.
//!
//! The sandbox serves HTTP/1.1 through its own accept loop instead of `axum::serve`, because
//! one fault needs it: [`crate::RouteFault::DropConnection`] closes a connection without
//! answering, and only the task that owns the connection can do that. Each connection's
//! requests carry a handle that the fault middleware fires; the connection task then drops the
//! connection, which closes the socket.
//!
//! It listens on loopback only, and refuses any other address: it is a test server with a
//! published secret. It never logs or prints the secret.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

use crate::config::{Config, SandboxConfig, SandboxConfigBuilder};
use crate::faults::{ConnectionKill, FaultTimes, OrderFault, Route, RouteFault};
use crate::ledger::{Ledger, Paying};
use crate::orders::{DeliveryAttempt, DeliveryRecord, OrderView, PayError, UnknownOrder};
use crate::state::Shared;
use crate::{delivery, persist, routes};

impl SandboxConfig {
    /// Binds the configured address and starts serving.
    ///
    /// # Errors
    /// [`io::ErrorKind::InvalidInput`] for a non-loopback address or an empty aid or secret;
    /// otherwise the error of binding.
    pub async fn start(self) -> io::Result<Sandbox> {
        check_addr(self.listen)?;
        let listener = TcpListener::bind(self.listen).await?;
        self.serve(listener).await
    }

    /// Serves on a listener the caller bound (it must be bound to a loopback address).
    ///
    /// # Errors
    /// As [`SandboxConfig::start`].
    pub async fn serve(self, listener: TcpListener) -> io::Result<Sandbox> {
        let addr = listener.local_addr()?;
        check_addr(addr)?;
        let mut merchants = vec![(self.aid, self.secret)];
        merchants.extend(self.more_merchants);
        for (i, (aid, secret)) in merchants.iter().enumerate() {
            if aid.is_empty() || aid.contains(['/', '?', '#']) {
                return Err(invalid(
                    "an aid must be non-empty and fit in a URL path segment",
                ));
            }
            if secret.is_empty() {
                return Err(invalid("an app secret must not be empty"));
            }
            if merchants[..i].iter().any(|(seen, _)| seen == aid) {
                return Err(invalid("two merchants have the same aid"));
            }
        }
        let http = reqwest::Client::builder()
            .no_proxy()
            // A redirect is not an acknowledgement: only HTTP 200 is (docs/protocol.md §7).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(io::Error::other)?;
        let base_url = format!("http://{addr}");
        let config = Config::new(
            merchants,
            self.retry_unit,
            self.strict_lowercase_sign,
            self.fee_rate_bp,
            self.notify_timeout,
            self.magic_amounts,
        );
        let ledger = match &self.state_file {
            Some(path) => persist::load(path)?,
            None => None,
        };
        let mut ledger = ledger.unwrap_or_else(|| {
            Ledger::new(config.first().aid.clone(), self.balance_fen, self.app_off)
        });
        // A merchant added since the state file was written starts with an account of its own.
        for aid in config.aids() {
            ledger.open_account(aid);
        }
        let shared = Arc::new(Shared::new(config, http, base_url, ledger, self.state_file));
        // Deliveries the previous run did not finish start their schedule again.
        let unfinished = shared.ledger().unfinished_deliveries();
        for aoid in unfinished {
            delivery::spawn(&shared, aoid);
        }
        let router = routes::router(Arc::clone(&shared));
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(accept_loop(listener, router, stopped));
        Ok(Sandbox {
            shared,
            addr,
            stop,
            server: Some(server),
        })
    }
}

fn check_addr(addr: SocketAddr) -> io::Result<()> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(invalid("the sandbox listens on loopback addresses only"))
    }
}

fn invalid(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Accepts connections until told to stop, then aborts the open ones.
async fn accept_loop(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
        }
        while connections.try_join_next().is_some() {}
    }
    connections.shutdown().await;
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let kill = ConnectionKill::default();
    let for_requests = kill.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(for_requests.clone());
        router.clone().oneshot(request)
    });
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        // Dropping the connection closes the socket with the request unanswered.
        () = kill.0.notified() => {}
    }
}

/// A running sandbox: a local XorPay on a loopback port.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let sandbox = xorpay_sandbox::Sandbox::builder()
///     .aid("1000")
///     .secret("0123456789abcdef0123456789abcdef")
///     .retry_unit(std::time::Duration::from_millis(10))
///     .build()
///     .start()
///     .await?;
/// println!("POST {}/api/pay/{}", sandbox.base_url(), sandbox.aid());
/// sandbox.shutdown().await;
/// # Ok(())
/// # }
/// ```
///
/// Dropping it stops the server and every delivery as well; [`Sandbox::shutdown`] also waits
/// for the listener to close.
#[derive(Debug)]
pub struct Sandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Configures a sandbox, every setting with the default listed on [`SandboxConfig`];
    /// `build()` gives the configuration, whose `start()` starts it.
    pub fn builder() -> SandboxConfigBuilder {
        SandboxConfig::builder()
    }

    /// The base URL, `http://127.0.0.1:PORT`, without a trailing slash: what a client uses
    /// instead of `https://xorpay.com`.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The (first) merchant's aid.
    pub fn aid(&self) -> &str {
        &self.shared.config.first().aid
    }

    /// The (first) merchant's app secret. This is the test server's own value, so it is
    /// handed out; never use a real secret with the sandbox.
    pub fn secret(&self) -> String {
        self.shared.config.first().secret.get().to_string()
    }

    /// The merchant resets the app secret in the dashboard: from now on every request is
    /// checked, and every new notification signed, with `secret`. The notifications of orders
    /// paid before keep the signature they were made with (each is signed once, when its
    /// order is paid) and are still retried: a merchant accepts the previous secret for a
    /// while. XorPay's documents say nothing of rotation; this is the sandbox's model of it.
    /// An empty `secret` is ignored.
    /// This is the first merchant's secret; the others keep theirs.
    pub fn rotate_secret(&self, secret: &str) {
        if !secret.is_empty() {
            self.shared.config.first().secret.set(secret);
        }
    }

    /// The payer pays the order, exactly as `POST /_sandbox/orders/{aoid}/pay`: it becomes
    /// `payed` and notification delivery starts (or `fee_error`, when the balance cannot
    /// cover the fee any more). Returns the order as it is right after paying.
    ///
    /// # Errors
    /// [`PayError::NotFound`], or [`PayError::NotPayable`] when the order is not `new`.
    pub async fn pay(&self, aoid: &str) -> Result<OrderView, PayError> {
        delivery::pay(&self.shared, aoid, Paying::OnTime)
    }

    /// The payer pays, but XorPay cannot take its fee, whatever the balance: the order
    /// becomes `fee_error` and its notification is held back, as `POST
    /// /_sandbox/orders/{aoid}/fee_error`.
    ///
    /// # Errors
    /// [`PayError::NotFound`], or [`PayError::NotPayable`] when the order is not `new`.
    pub async fn pay_fee_short(&self, aoid: &str) -> Result<OrderView, PayError> {
        delivery::pay(&self.shared, aoid, Paying::FeeShort)
    }

    /// A `new` order expires now, as if its lifetime had run out (`POST
    /// /_sandbox/orders/{aoid}/expire`).
    ///
    /// # Errors
    /// [`PayError::NotFound`], or [`PayError::NotPayable`] when the order is not `new`.
    pub fn expire(&self, aoid: &str) -> Result<OrderView, PayError> {
        let now = self.shared.clock.now();
        let mut ledger = self.shared.ledger();
        ledger.expire(aoid, now)?;
        ledger.view(aoid, now).ok_or(PayError::NotFound)
    }

    /// Every notification request made so far, order by order, each with its log id
    /// (`GET /_sandbox/deliveries`).
    pub fn delivery_log(&self) -> Vec<DeliveryRecord> {
        self.shared.ledger().delivery_log(None, None)
    }

    /// Sends the logged request `id` (`AOID.N`) again, now, and answers its new log entry;
    /// `None` for an unknown id (`POST /_sandbox/deliveries/{id}/resend`).
    pub async fn resend(&self, id: &str) -> Option<DeliveryRecord> {
        delivery::resend(&self.shared, id).await
    }

    /// The payer's channel completes a payment of an order XorPay had already reported
    /// expired: the race at the very end of an order's lifetime, which is why a merchant
    /// must accept a late payment of an order it holds as expired. The order becomes
    /// `payed` and its notification is delivered, as [`Sandbox::pay`].
    ///
    /// # Errors
    /// [`PayError::NotFound`], or [`PayError::NotPayable`] when the order is neither `new`
    /// nor `expire`.
    pub async fn pay_late(&self, aoid: &str) -> Result<OrderView, PayError> {
        delivery::pay(&self.shared, aoid, Paying::Late)
    }

    /// A snapshot of the order with this aoid.
    pub fn order(&self, aoid: &str) -> Option<OrderView> {
        self.shared.view(aoid)
    }

    /// A snapshot of the (first) merchant's order with this order number.
    pub fn order_by_order_id(&self, order_id: &str) -> Option<OrderView> {
        self.merchant_order(self.aid(), order_id)
    }

    /// A snapshot of the order of merchant `aid` with this order number.
    pub fn merchant_order(&self, aid: &str, order_id: &str) -> Option<OrderView> {
        let now = self.shared.clock.now();
        let mut ledger = self.shared.ledger();
        let aoid = ledger.aoid_of(aid, order_id)?.to_owned();
        ledger.view(&aoid, now)
    }

    /// Snapshots of every order, oldest first.
    pub fn orders(&self) -> Vec<OrderView> {
        self.shared.ledger().views(self.shared.clock.now())
    }

    /// Every notification request made so far for this order (empty for an unknown one).
    pub fn deliveries(&self, aoid: &str) -> Vec<DeliveryAttempt> {
        self.order(aoid)
            .map(|order| order.deliveries)
            .unwrap_or_default()
    }

    /// Polls the order every few milliseconds until `done` holds or `timeout` passes, and
    /// returns the last snapshot either way (`None` for an unknown order).
    pub async fn wait_for(
        &self,
        aoid: &str,
        timeout: Duration,
        done: impl Fn(&OrderView) -> bool,
    ) -> Option<OrderView> {
        let deadline = crate::delivery::deadline(timeout);
        loop {
            let order = self.order(aoid)?;
            if done(&order) || tokio::time::Instant::now() >= deadline {
                return Some(order);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Makes requests to `route` fail; see [`crate::faults`]. Replaces the route's previous
    /// fault.
    pub fn inject_route_fault(&self, route: Route, fault: RouteFault, times: FaultTimes) {
        self.shared.route_faults().set(route, fault, times);
    }

    /// Removes every route fault.
    pub fn clear_route_faults(&self) {
        self.shared.route_faults().clear();
    }

    /// Injects a fault into the notification of an order; set it before the order is paid.
    ///
    /// # Errors
    /// [`UnknownOrder`].
    pub fn set_order_fault(&self, aoid: &str, fault: OrderFault) -> Result<(), UnknownOrder> {
        if self.shared.ledger().set_fault(aoid, Some(fault)) {
            Ok(())
        } else {
            Err(UnknownOrder)
        }
    }

    /// Removes an order's fault.
    ///
    /// # Errors
    /// [`UnknownOrder`].
    pub fn clear_order_fault(&self, aoid: &str) -> Result<(), UnknownOrder> {
        if self.shared.ledger().set_fault(aoid, None) {
            Ok(())
        } else {
            Err(UnknownOrder)
        }
    }

    /// Moves the sandbox's clock forward, so orders expire without waiting, and returns how far
    /// ahead of the system clock it is now: at most a century, however far it is moved.
    /// Notification retries are not affected (they follow the retry unit).
    pub fn advance_clock(&self, by: Duration) -> Duration {
        self.shared.clock.advance(by)
    }

    /// Issues an openid, as `GET /api/openid/{aid}` does, without the browser redirect.
    pub fn issue_openid(&self) -> String {
        self.shared.ledger().issue_openid()
    }

    /// The (first) merchant's remaining balance in fen (`None`: unlimited).
    pub fn balance_fen(&self) -> Option<u64> {
        self.shared.ledger().account(self.aid()).balance_fen
    }

    /// Sets the (first) merchant's balance in fen (`None`: unlimited).
    pub fn set_balance_fen(&self, balance_fen: Option<u64>) {
        self.shared.ledger().account_mut(self.aid()).balance_fen = balance_fen;
    }

    /// Freezes or unfreezes the (first) merchant's account (`app_off`).
    pub fn set_app_off(&self, app_off: bool) {
        self.shared.ledger().account_mut(self.aid()).app_off = app_off;
    }

    /// Stops accepting connections, aborts open connections and deliveries, and waits for the
    /// listener to close.
    pub async fn shutdown(mut self) {
        self.stop_now();
        if let Some(server) = self.server.take() {
            // The accept loop cannot panic; a join error would only mean it was aborted.
            let _ = server.await;
        }
    }

    fn stop_now(&self) {
        let _ = self.stop.send(true);
        self.shared.stop_tasks();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop_now();
    }
}
