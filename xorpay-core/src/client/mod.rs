//! The async HTTP client for XorPay (feature `client`, on by default).
//!
//! The lifecycle service ([`crate::service::Payments`]) owns every call that moves money: it
//! creates orders, sends refunds and settles lost answers through this client, and records
//! each step. What stays public here moves no money: the queries ([`Client::query`],
//! [`Client::query2`]), the openid redirect ([`Client::openid_url`],
//! [`openid_from_callback`]) and XorPay's QR renderer ([`Client::qr_image_url`]). Get one
//! from the service (`payments.client()`), or build one with [`Client::builder`].
//!
//! Safe defaults: HTTPS through rustls (no OpenSSL anywhere), timeouts on every request,
//! retries with backoff for queries only (never for creating an order or refunding: a retry
//! could pay or refund twice), and a tracing span around every call that records the order
//! number, the endpoint and the outcome, never the secret, a signature or a request body.
//! Every failure is a typed [`ClientError`].
//!
//! The module is split along its seams: this file holds the client and its configuration,
//! `error` what goes wrong, `transport` how one request is sent and read (and queries
//! retried), `endpoints` one method per endpoint (XorPay's JSON answers are read by
//! `crate::answers`). It does not verify notifications (see [`crate::notify`]) or store orders.

use core::fmt;
use core::time::Duration;
use std::sync::Arc;

use typed_builder::TypedBuilder;

use crate::config::ConfigError;
use crate::credentials::{Aid, AppSecret};

mod endpoints;
mod error;
mod transport;

pub use endpoints::openid_from_callback;
pub(crate) use error::SendError;
pub use error::{Call, ClientError};

/// XorPay's own base URL, the default of every `base_url` setting.
pub(crate) const XORPAY_BASE_URL: &str = "https://xorpay.com";

/// A XorPay client for one merchant account: queries, the openid redirect and QR images.
///
/// ```no_run
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use xorpay::client::Client;
///
/// let client = Client::builder()
///     .aid("999")
///     .secret(std::env::var("XORPAY_APP_SECRET")?)
///     .build()?;
/// let redirect = client.openid_url("https://shop.example.com/checkout")?;
/// # let _ = redirect;
/// # Ok(()) }
/// ```
///
/// `aid` and `secret` are required: leaving one out is a compile error that names it.
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
/// the settings and sets up the HTTP stack.
#[derive(TypedBuilder)]
#[builder(
    builder_method(vis = "pub(crate)"),
    build_method(into = Result<Client, ConfigError>)
)]
pub struct ClientConfig {
    /// The merchant's app id (checked as by [`Aid::new`]).
    #[builder(setter(into))]
    aid: String,
    /// The merchant's app secret (checked as by [`AppSecret::new`]).
    #[builder(setter(into))]
    secret: String,
    /// The notify URL of orders declared `notify_url = from_client`.
    #[builder(default, setter(into, strip_option))]
    notify_url: Option<String>,
    /// XorPay's base URL, or a sandbox's. Default: `https://xorpay.com`.
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
    /// `build()` fails with a [`ConfigError`] for an aid or secret that [`Aid::new`] or
    /// [`AppSecret::new`] refuse, a `base_url` or `notify_url` that is not an absolute
    /// http(s) URL (plain http to XorPay only on loopback, for a sandbox), or when the HTTP
    /// stack cannot be set up.
    pub fn builder() -> ClientConfigBuilder {
        ClientConfig::builder()
    }
}

impl From<ClientConfig> for Result<Client, ConfigError> {
    fn from(config: ClientConfig) -> Result<Client, ConfigError> {
        let aid = Aid::new(config.aid)?;
        let secret = AppSecret::new(config.secret)?;
        Client::assemble(
            aid,
            secret,
            config.notify_url,
            config.base_url,
            config.timeout,
            config.connect_timeout,
            config.query_retry,
        )
    }
}

impl Client {
    /// A client from checked credentials: the URLs checked, the HTTP stack set up.
    pub(crate) fn assemble(
        aid: Aid,
        secret: AppSecret,
        notify_url: Option<String>,
        base_url: String,
        timeout: Duration,
        connect_timeout: Duration,
        query_retry: RetryPolicy,
    ) -> Result<Client, ConfigError> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let base = web_url(&base_url).ok_or_else(|| {
            ConfigError::new(
                "base_url",
                "it must be an absolute http(s) URL without query, fragment or user",
            )
        })?;
        if base.query().is_some() {
            return Err(ConfigError::new("base_url", "it must not have a query"));
        }
        // Answers to queries move orders to paid: they must come over TLS, except from a
        // sandbox on this machine.
        if base.scheme() == "http" && !is_loopback(&base) {
            return Err(ConfigError::new(
                "base_url",
                "it must use https:// (plain http:// only on loopback, for a sandbox)",
            ));
        }
        if let Some(url) = &notify_url
            && web_url(url).is_none()
        {
            return Err(ConfigError::new(
                "notify_url",
                "it must be an absolute http(s) URL without fragment or user",
            ));
        }
        let http = reqwest::Client::builder()
            // A redirect would carry a signed body, or query2's signed URL, elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            .user_agent(concat!("xorpay-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| ConfigError::new("the HTTP client", error))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                aid,
                secret,
                notify_url,
                timeout,
                query_retry: RetryPolicy {
                    attempts: query_retry.attempts.max(1),
                    ..query_retry
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

impl Client {
    /// The merchant's app id.
    pub fn aid(&self) -> &Aid {
        &self.inner.aid
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The notify URL orders declared `notify_url = from_client` are signed with, if one is
    /// set.
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
