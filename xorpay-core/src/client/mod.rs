//! The async client for every XorPay endpoint (feature `client`, on by default): the
//! low-level door for custom flows. Most applications use the lifecycle service
//! ([`crate::service::Payments`]), which calls it and keeps the store in step.
//!
//! It moves typed orders along: [`Client::submit`] turns an `Order<O, Created>` into an
//! `Order<O, Pending>`, [`Client::confirm`] and [`Client::settle`] move pending orders on,
//! [`Client::send_refund`] sends a refund once its store has recorded it in doubt. Each call
//! is offered only the orders it can send: `submit` takes `/api/pay` orders,
//! [`Client::barcode_pay`] barcode orders and [`Client::cashier`] cashier orders, by their
//! `Endpoint` type.
//!
//! Safe defaults: HTTPS through rustls (no OpenSSL anywhere), timeouts on every request,
//! retries with backoff for queries only (never for creating an order or refunding: a retry
//! could pay or refund twice), and a tracing span around every call that records the order
//! number, the endpoint and the outcome, never the secret, a signature or a request body.
//! Every failure is a typed [`ClientError`]; a failed submission hands the order back.
//!
//! The module is split along its seams: this file holds the client and its configuration,
//! `error` what goes wrong, `transport` how one request is sent and read (and queries
//! retried), `endpoints` one method per XorPay endpoint. It does not verify notifications
//! (see [`crate::notify`]) or store orders.

use core::fmt;
use core::time::Duration;
use std::sync::Arc;

use time::OffsetDateTime;
use typed_builder::TypedBuilder;

use crate::credentials::{Aid, AppSecret};
use crate::order::{Created, Order, Pending};
use crate::request::endpoint;
use crate::request::{XorPayOrder, order_facts, request_with_client_url};
use crate::response::{
    BarcodePayment, BarcodeResponse, CreateOrderResponse, CreatedOrder, DEFAULT_EXPIRE_SECS,
};

mod endpoints;
mod error;
mod transport;

use endpoints::auto_submit_form;
pub use endpoints::{CashierPage, openid_from_callback};
pub use error::{Call, ClientError, ConfirmFailure, SettleError, SubmitError};

/// An order sent to its endpoint ([`Client::send_any`]).
pub(crate) enum Sent<O> {
    /// Created or charged: pending.
    Pending(Order<O, Pending>),
    /// A cashier order: pending, and the page to send the payer to.
    Cashier(Order<O, Pending>, CashierPage),
}

/// XorPay's own base URL.
pub const XORPAY_BASE_URL: &str = "https://xorpay.com";

/// A XorPay client for one merchant account.
///
/// ```no_run
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use xorpay::client::Client;
/// use xorpay::{Aid, AppSecret};
///
/// let client = Client::builder()
///     .aid(Aid::new("999")?)
///     .secret(AppSecret::new(std::env::var("XORPAY_APP_SECRET")?)?)
///     .notify_url("https://shop.example.com/xorpay/notify")
///     .build()?;
/// # Ok(()) }
/// ```
///
/// `aid` and `secret` are required: leaving one out is a compile error that names it.
/// `notify_url` is the URL orders declared `notify_url = from_client` are signed with;
/// without it, submitting such an order is [`crate::RequestError::NoClientNotifyUrl`].
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    aid: Aid,
    secret: AppSecret,
    notify_url: Option<String>,
    timeout: Duration,
    query_retry: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("aid", &self.inner.aid)
            .field("secret", &self.inner.secret)
            .field("notify_url", &self.inner.notify_url)
            .field("query_retry", &self.inner.query_retry)
            .finish_non_exhaustive()
    }
}

/// How a [`Client`] reaches XorPay: what [`Client::builder`] collects. Its `build()` checks
/// the URLs and sets up the HTTP stack.
#[derive(TypedBuilder)]
#[builder(
    builder_method(vis = "pub(crate)"),
    build_method(into = Result<Client, ClientError>)
)]
pub struct ClientConfig {
    /// The merchant's app id.
    aid: Aid,
    /// The merchant's app secret.
    secret: AppSecret,
    /// The notify URL of orders declared `notify_url = from_client`.
    #[builder(default, setter(into, strip_option))]
    notify_url: Option<String>,
    /// XorPay's base URL, or a sandbox's. Default: [`XORPAY_BASE_URL`].
    #[builder(default = XORPAY_BASE_URL.to_owned(), setter(into))]
    base_url: String,
    /// The whole time one request may take. Default: 15 s.
    #[builder(default = Duration::from_secs(15))]
    timeout: Duration,
    /// The time to establish a connection. Default: 5 s.
    #[builder(default = Duration::from_secs(5))]
    connect_timeout: Duration,
    /// How queries are retried. Default: [`RetryPolicy::default`].
    #[builder(default)]
    query_retry: RetryPolicy,
}

impl Client {
    /// Configures a client for one merchant: `aid` and `secret` are required, every other
    /// setting has a default. `build()` gives the client.
    ///
    /// # Errors
    /// `build()` fails with [`ClientError::Config`] for a `base_url` or `notify_url` that is
    /// not an absolute http(s) URL (plain http only on loopback, for a sandbox), or when the
    /// HTTP stack cannot be set up.
    pub fn builder() -> ClientConfigBuilder {
        ClientConfig::builder()
    }
}

impl From<ClientConfig> for Result<Client, ClientError> {
    fn from(config: ClientConfig) -> Result<Client, ClientError> {
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        let base = web_url(&base_url).ok_or_else(|| {
            ClientError::Config(
                "base_url must be an absolute http(s) URL without query, fragment or user"
                    .to_owned(),
            )
        })?;
        if base.query().is_some() {
            return Err(ClientError::Config(
                "base_url must not have a query".to_owned(),
            ));
        }
        // Answers to queries move orders to paid: they must come over TLS, except from a
        // sandbox on this machine.
        if base.scheme() == "http" && !is_loopback(&base) {
            return Err(ClientError::Config(
                "base_url must use https:// (plain http:// only on loopback, for a sandbox)"
                    .to_owned(),
            ));
        }
        if let Some(url) = &config.notify_url
            && web_url(url).is_none()
        {
            return Err(ClientError::Config(
                "notify_url must be an absolute http(s) URL without fragment or user".to_owned(),
            ));
        }
        let http = reqwest::Client::builder()
            // A redirect would carry a signed body, or query2's signed URL, elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("xorpay-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| ClientError::Config(error.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                aid: config.aid,
                secret: config.secret,
                notify_url: config.notify_url,
                timeout: config.timeout,
                query_retry: RetryPolicy {
                    attempts: config.query_retry.attempts.max(1),
                    ..config.query_retry
                },
            }),
        })
    }
}

/// How queries are retried: `attempts` tries in all, waiting `initial_backoff` before the
/// second and twice as long before each next one, at most `max_backoff`. Only connection
/// failures, timeouts, 5xx answers and non-JSON answers are retried, never an answer XorPay
/// gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (at least one).
    pub attempts: u32,
    /// The wait before the second try.
    pub initial_backoff: Duration,
    /// The longest wait between tries.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Three tries, waiting 200 ms then 400 ms.
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// One try, no retry.
    pub const NONE: RetryPolicy = RetryPolicy {
        attempts: 1,
        initial_backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
    };

    fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(16)).unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Creating orders: each method takes exactly the orders of its endpoint, by their
/// `Endpoint` type (a misuse is a compile error naming the right method). Next to the type,
/// so that those errors name `Client::submit`, not an inner module.
impl Client {
    /// Creates the order at XorPay (`POST /api/pay/{aid}`): native, jsapi, alipay and
    /// mini-program orders. Never retried: a retry could create it twice.
    ///
    /// # Errors
    /// [`SubmitError`], holding the order unchanged.
    pub async fn submit<O>(
        &self,
        order: Order<O, Created>,
    ) -> Result<Order<O, Pending>, SubmitError<O>>
    where
        O: XorPayOrder,
        O::Endpoint: endpoint::Submit,
    {
        self.create(
            Call::Pay,
            order,
            |body| CreateOrderResponse::from_json(body).and_then(CreateOrderResponse::into_result),
            CreatedOrder::aoid,
            Order::submitted,
        )
        .await
    }

    /// Charges a scanned payment code (`POST /api/barcode_pay/{aid}`). The order stays
    /// pending until its notification or a query confirms it, even when XorPay answers
    /// `success` at once. Never retried.
    ///
    /// # Errors
    /// [`SubmitError`], holding the order unchanged; a declined code is
    /// [`crate::ApiError::BarcodeFailed`].
    pub async fn barcode_pay<O>(
        &self,
        order: Order<O, Created>,
    ) -> Result<Order<O, Pending>, SubmitError<O>>
    where
        O: XorPayOrder,
        O::Endpoint: endpoint::BarcodePay,
    {
        self.create(
            Call::Barcode,
            order,
            |body| BarcodeResponse::from_json(body).and_then(BarcodeResponse::into_result),
            BarcodePayment::aoid,
            Order::barcode_submitted,
        )
        .await
    }

    /// XorPay's cashier page for a cashier order, and the order as pending: send the payer's
    /// browser to the page's URL (or serve its form). No request is made here; XorPay checks
    /// the signature when the browser arrives.
    ///
    /// # Errors
    /// [`SubmitError`] with [`ClientError::Request`], holding the order unchanged.
    pub fn cashier<O>(
        &self,
        order: Order<O, Created>,
    ) -> Result<(Order<O, Pending>, CashierPage), SubmitError<O>>
    where
        O: XorPayOrder,
        O::Endpoint: endpoint::OpenCashier,
    {
        self.open_cashier(order)
    }

    /// [`Client::cashier`] after a run-time check of the endpoint.
    pub(crate) fn open_cashier<O: XorPayOrder>(
        &self,
        order: Order<O, Created>,
    ) -> Result<(Order<O, Pending>, CashierPage), SubmitError<O>> {
        let page = match self.cashier_page(order.inner()) {
            Ok(page) => page,
            Err(error) => return Err(SubmitError { order, error }),
        };
        let lifetime = order_facts(order.inner())
            .ok()
            .and_then(|facts| facts.expire)
            .unwrap_or(DEFAULT_EXPIRE_SECS);
        Ok((order.opened(lifetime, OffsetDateTime::now_utc()), page))
    }

    /// XorPay's cashier page for an order: its signed URL and auto-submitting form. No
    /// request is made; the page can be made again at any time (a repeated checkout).
    pub(crate) fn cashier_page<O: XorPayOrder>(
        &self,
        order: &O,
    ) -> Result<CashierPage, ClientError> {
        let request =
            request_with_client_url(order, self.inner.notify_url.as_deref(), &self.inner.secret)?;
        let action = format!("{}/api/cashier/{}", self.inner.base_url, self.inner.aid);
        Ok(CashierPage {
            url: format!("{action}?{}", request.body()),
            form_html: auto_submit_form(&action, request.body()),
        })
    }

    /// Sends an order to its endpoint, whatever its type (the service's checkout): created at
    /// `/api/pay`, charged at `/api/barcode_pay`, or opened as a cashier page.
    pub(crate) async fn send_any<O: XorPayOrder>(
        &self,
        order: Order<O, Created>,
    ) -> Result<Sent<O>, SubmitError<O>> {
        use crate::request::endpoint::EndpointMarker as _;
        match <O::Endpoint>::ENDPOINT {
            crate::pay_type::Endpoint::Cashier => self
                .open_cashier(order)
                .map(|(order, page)| Sent::Cashier(order, page)),
            crate::pay_type::Endpoint::Barcode => self
                .create(
                    Call::Barcode,
                    order,
                    |body| BarcodeResponse::from_json(body).and_then(BarcodeResponse::into_result),
                    BarcodePayment::aoid,
                    Order::charged,
                )
                .await
                .map(Sent::Pending),
            _ => self.resend(order).await.map(Sent::Pending),
        }
    }
}

impl Client {
    /// The merchant's app id.
    pub fn aid(&self) -> &Aid {
        &self.inner.aid
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The notify URL of orders declared `notify_url = from_client`, if one is set.
    pub fn notify_url(&self) -> Option<&str> {
        self.inner.notify_url.as_deref()
    }

    /// The longest one request may take: after it, a call that got no answer has surely
    /// ended (XorPay may have acted, but will not act on it any more).
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The merchant's secret, for the service to verify notifications with.
    pub(crate) fn secret(&self) -> &AppSecret {
        &self.inner.secret
    }
}

/// `text` as an absolute http(s) URL with a host and no fragment or user info.
pub(crate) fn web_url(text: &str) -> Option<reqwest::Url> {
    let url = reqwest::Url::parse(text).ok()?;
    let web = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|host| !host.is_empty())
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && !text.chars().any(|c| c.is_whitespace() || c.is_control());
    web.then_some(url)
}

fn is_web_url(text: &str) -> bool {
    web_url(text).is_some()
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        assert_eq!(policy.backoff(0), Duration::from_millis(100));
        assert_eq!(policy.backoff(1), Duration::from_millis(200));
        assert_eq!(policy.backoff(2), Duration::from_millis(350));
        assert_eq!(policy.backoff(40), Duration::from_millis(350));
    }

    #[test]
    fn web_urls_are_absolute_http_with_a_host() {
        assert!(is_web_url("https://xorpay.com"));
        assert!(is_web_url("http://127.0.0.1:8080"));
        assert!(is_web_url("http://例子.com/pay"));
        for bad in [
            "https://",
            "xorpay.com",
            "https://x.com/a b",
            "https://#",
            "ftp://x.com",
            "https://user:pw@x.com",
            "https://x.com/#frag",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }

    #[test]
    fn only_loopback_may_skip_tls() {
        let url = |text: &str| reqwest::Url::parse(text).unwrap();
        assert!(is_loopback(&url("http://127.0.0.1:9")));
        assert!(is_loopback(&url("http://localhost:9")));
        assert!(is_loopback(&url("http://[::1]:9")));
        assert!(!is_loopback(&url("http://10.0.0.1")));
        assert!(!is_loopback(&url("http://localhost.example.com")));
    }
}
