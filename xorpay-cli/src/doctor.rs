//! `xorpay doctor`: a configuration checked the way XorPay and the library will treat it, each
//! fault named with its fix.
//!
//! It reads the settings the examples read (`XORPAY_AID`, `XORPAY_APP_SECRET`,
//! `XORPAY_BASE_URL`) and `XORPAY_NOTIFY_URL`, then:
//! - the secret: stray whitespace is a fault (XorPay answers every request `sign_error`);
//!   a form unlike XorPay's (32 lowercase hex characters) a warning, as the library warns;
//! - the aid, as the library checks it;
//! - where XorPay is: https, or a sandbox on loopback;
//! - the notify URL: absolute http(s); public (loopback and private addresses only with a
//!   sandbox); `http://` a warning;
//! - a **probe**: a notification for an order that does not exist, signed with the secret,
//!   posted to the notify URL without following redirects. xorpay-rs answers it 409 (signed,
//!   but no such order). A redirect, a 200, a 400 (another secret), a 404 or anything else is
//!   named as the fault it shows.

use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args as ClapArgs;
use serde_json::json;
use xorpay::notify::CHINA_STANDARD_TIME;
use xorpay::sign::{self, NotifyFields};
use xorpay::time::OffsetDateTime;
use xorpay::{Aid, AppSecret};

use crate::failure::{Failure, print_json};
use crate::secret::{RawSecret, SECRET_VAR, SecretArgs};

/// Check a configuration and its notify URL, and name each fault with its fix.
///
/// Reads XORPAY_AID, XORPAY_APP_SECRET (or --secret-file), XORPAY_BASE_URL and
/// XORPAY_NOTIFY_URL (or the flags), and posts a signed probe notification for an order that
/// does not exist to the notify URL. The exit status is 1 when a fault is found.
#[derive(ClapArgs)]
#[command(after_help = "Example:\n  \
    XORPAY_AID=1000 XORPAY_APP_SECRET=… \\\n    \
    XORPAY_NOTIFY_URL=https://shop.example.com/xorpay/notify xorpay doctor")]
pub(crate) struct Args {
    /// The merchant's aid.
    #[arg(long, env = "XORPAY_AID", value_name = "AID")]
    aid: Option<String>,
    /// The notify URL the shop gives XorPay.
    #[arg(long, env = "XORPAY_NOTIFY_URL", value_name = "URL")]
    notify_url: Option<String>,
    /// XorPay's address, or a sandbox's (then loopback notify URLs are fine).
    #[arg(
        long,
        env = "XORPAY_BASE_URL",
        value_name = "URL",
        default_value = "https://xorpay.com"
    )]
    base_url: String,
    /// Print the findings as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    secret: SecretArgs,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Fault,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fault => "fault",
        }
    }
}

/// One thing the doctor found.
struct Finding {
    level: Level,
    subject: &'static str,
    message: String,
    fix: Option<String>,
}

impl Finding {
    fn ok(subject: &'static str, message: impl Into<String>) -> Finding {
        Finding {
            level: Level::Ok,
            subject,
            message: message.into(),
            fix: None,
        }
    }

    fn bad(
        level: Level,
        subject: &'static str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            level,
            subject,
            message: message.into(),
            fix: Some(fix.into()),
        }
    }
}

pub(crate) async fn run(args: &Args) -> Result<ExitCode, Failure> {
    let mut findings = Vec::new();
    let secret = check_secret(args.secret.raw()?, &mut findings);
    check_aid(args.aid.as_deref(), &mut findings);
    let sandbox = check_base_url(&args.base_url, &mut findings);
    let notify_url = check_notify_url(args.notify_url.as_deref(), sandbox, &mut findings).await;
    if let (Some(secret), Some(url)) = (&secret, &notify_url) {
        findings.push(probe(url, secret).await);
    }
    report(&findings, args.json);
    let faulty = findings.iter().any(|finding| finding.level == Level::Fault);
    Ok(if faulty {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn report(findings: &[Finding], as_json: bool) {
    let count = |level| findings.iter().filter(|f| f.level == level).count();
    let (faults, warnings) = (count(Level::Fault), count(Level::Warn));
    if as_json {
        let list: Vec<_> = findings
            .iter()
            .map(|finding| {
                json!({
                    "level": finding.level.as_str(),
                    "subject": finding.subject,
                    "message": finding.message,
                    "fix": finding.fix,
                })
            })
            .collect();
        print_json(&json!({ "findings": list, "faults": faults, "warnings": warnings }));
        return;
    }
    for finding in findings {
        println!(
            "{:<5}  {:<10}  {}",
            finding.level.as_str(),
            finding.subject,
            finding.message
        );
        if let Some(fix) = &finding.fix {
            println!("{:<5}  {:<10}  fix: {fix}", "", "");
        }
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    println!(
        "{}, {}",
        plural(faults, "fault"),
        plural(warnings, "warning")
    );
}

/// The name of a character a secret should not have.
fn describe(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        '\n' => "a newline".to_owned(),
        '\r' => "a carriage return".to_owned(),
        '\t' => "a tab".to_owned(),
        other => format!("the whitespace character U+{:04X}", u32::from(other)),
    }
}

fn check_secret(raw: Option<RawSecret>, findings: &mut Vec<Finding>) -> Option<AppSecret> {
    let Some(raw) = raw else {
        findings.push(Finding::bad(
            Level::Fault,
            "secret",
            "no app secret is set",
            format!(
                "set {SECRET_VAR}, or pass --secret-file FILE, with the secret from XorPay's \
                 dashboard"
            ),
        ));
        return None;
    };
    let text = raw.text.as_str();
    let source = &raw.source;
    let stray = if let Some(first) = text.chars().next().filter(|c| c.is_whitespace()) {
        Some(format!("starts with {}", describe(first)))
    } else if let Some(last) = text.chars().last().filter(|c| c.is_whitespace()) {
        Some(format!("ends with {}", describe(last)))
    } else {
        text.chars()
            .find(|c| c.is_whitespace())
            .map(|inner| format!("holds {} inside", describe(inner)))
    };
    if let Some(stray) = stray {
        findings.push(Finding::bad(
            Level::Fault,
            "secret",
            format!(
                "the secret in {source} {stray}: XorPay would answer every request with \
                 sign_error"
            ),
            format!("remove it where {source} is set (copy the secret again from the dashboard)"),
        ));
        return None;
    }
    let secret = match AppSecret::new(text) {
        Ok(secret) => secret,
        Err(error) => {
            findings.push(Finding::bad(
                Level::Fault,
                "secret",
                format!("the secret in {source}: {}", error.reason()),
                "copy the secret again from XorPay's dashboard",
            ));
            return None;
        }
    };
    findings.push(match secret.oddity() {
        Some(why) => Finding::bad(
            Level::Warn,
            "secret",
            format!("the secret in {source}: {why}"),
            "compare it with the app secret on XorPay's dashboard",
        ),
        None => Finding::ok("secret", "32 lowercase hex characters, as XorPay gives"),
    });
    Some(secret)
}

fn check_aid(aid: Option<&str>, findings: &mut Vec<Finding>) {
    let Some(aid) = aid else {
        findings.push(Finding::bad(
            Level::Fault,
            "aid",
            "no aid is set",
            "set XORPAY_AID (or --aid) to the aid on XorPay's dashboard",
        ));
        return;
    };
    findings.push(match Aid::new(aid) {
        Err(error) => Finding::bad(
            Level::Fault,
            "aid",
            format!("aid {aid:?}: {}", error.reason()),
            "set XORPAY_AID to the aid on XorPay's dashboard",
        ),
        Ok(checked) => match checked.oddity() {
            Some(why) => Finding::bad(
                Level::Warn,
                "aid",
                format!("aid {aid:?}: {why}"),
                "compare it with the aid on XorPay's dashboard",
            ),
            None => Finding::ok("aid", format!("aid {aid}")),
        },
    });
}

/// Checks where XorPay is; returns whether it is a sandbox on loopback.
fn check_base_url(base_url: &str, findings: &mut Vec<Finding>) -> bool {
    let Ok(url) = reqwest::Url::parse(base_url) else {
        findings.push(Finding::bad(
            Level::Fault,
            "base_url",
            format!("{base_url:?} is not an absolute URL"),
            "set XORPAY_BASE_URL to https://xorpay.com, or to a sandbox's address",
        ));
        return false;
    };
    let sandbox = url
        .host_str()
        .is_some_and(|host| reach(host) == Reach::Loopback);
    findings.push(match (url.scheme(), sandbox) {
        (_, true) => Finding::ok(
            "base_url",
            format!("a sandbox at {base_url}: loopback notify URLs are fine"),
        ),
        ("https", false) => Finding::ok("base_url", format!("XorPay at {base_url}")),
        _ => Finding::bad(
            Level::Fault,
            "base_url",
            format!("{base_url} is not https: the library refuses plain http but to loopback"),
            "use https://xorpay.com, or a sandbox on 127.0.0.1",
        ),
    });
    sandbox
}

/// How far an address reaches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// This machine only.
    Loopback,
    /// A private network: not from the internet.
    Private,
    /// The internet, or a name to be resolved.
    Public,
}

/// How far a URL's host reaches, from its text alone (`[::1]` and IPv4 literals, `localhost`).
fn reach(host: &str) -> Reach {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => reach_of(ip),
        Err(_) if bare == "localhost" || bare.ends_with(".localhost") => Reach::Loopback,
        Err(_) => Reach::Public,
    }
}

fn reach_of(ip: IpAddr) -> Reach {
    if ip.is_loopback() {
        return Reach::Loopback;
    }
    let private = match ip {
        IpAddr::V4(ip) => {
            let [a, b, ..] = ip.octets();
            ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                // 100.64.0.0/10, carrier-grade NAT.
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(ip) => {
            let first = ip.segments()[0];
            ip.is_unspecified()
                // fc00::/7 unique local, fe80::/10 link local.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    };
    if private {
        Reach::Private
    } else {
        Reach::Public
    }
}

/// Checks the notify URL; returns it when a probe can be sent to it.
async fn check_notify_url(
    notify_url: Option<&str>,
    sandbox: bool,
    findings: &mut Vec<Finding>,
) -> Option<reqwest::Url> {
    let Some(text) = notify_url else {
        findings.push(Finding::bad(
            Level::Fault,
            "notify_url",
            "no notify URL is set",
            "set XORPAY_NOTIFY_URL (or --notify-url) to the notify_url the shop gives XorPay",
        ));
        return None;
    };
    let url = match reqwest::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => url,
        _ => {
            findings.push(Finding::bad(
                Level::Fault,
                "notify_url",
                format!("{text:?} is not an absolute http(s) URL"),
                "give the full address, e.g. https://shop.example.com/xorpay/notify",
            ));
            return None;
        }
    };
    let host = url.host_str().unwrap_or_default().to_owned();
    let mut reach_now = reach(&host);
    if reach_now == Reach::Public && host.parse::<IpAddr>().is_err() {
        // A name: how far do its addresses reach?
        let port = url.port_or_known_default().unwrap_or(80);
        match tokio::net::lookup_host((host.as_str(), port)).await {
            Ok(addresses) => {
                let reaches: Vec<Reach> = addresses.map(|address| reach_of(address.ip())).collect();
                if !reaches.is_empty() && reaches.iter().all(|r| *r != Reach::Public) {
                    reach_now = reaches[0];
                }
            }
            Err(error) => {
                findings.push(Finding::bad(
                    Level::Fault,
                    "notify_url",
                    format!("{host} does not resolve here ({error})"),
                    "check the host name and its DNS record: XorPay must resolve it too",
                ));
            }
        }
    }
    match (reach_now, sandbox) {
        (Reach::Public, _) => findings.push(Finding::ok("notify_url", format!("{url} is public"))),
        (_, true) => findings.push(Finding::ok(
            "notify_url",
            format!("{url} is on this machine or network, which a sandbox here reaches"),
        )),
        (_, false) => findings.push(Finding::bad(
            Level::Fault,
            "notify_url",
            format!("{host} is a loopback or private address: XorPay cannot reach it"),
            "give XorPay the shop's public address (or use a sandbox: XORPAY_BASE_URL=http://127.0.0.1:8899)",
        )),
    }
    if url.scheme() == "http" {
        findings.push(Finding::bad(
            Level::Warn,
            "notify_url",
            format!(
                "{url} is plain http: XorPay's own examples use it and the notification is \
                 signed, but the payer's details in it cross the network in clear"
            ),
            "serve the notify route over https",
        ));
    }
    Some(url)
}

/// The probe: a notification for an order that does not exist, signed with the secret.
fn probe_body(secret: &AppSecret) -> String {
    let aoid = uuid::Uuid::new_v4().simple().to_string();
    let order_id = format!("xorpay-doctor-probe-{}", &aoid[..12]);
    let now = OffsetDateTime::now_utc().to_offset(CHINA_STANDARD_TIME);
    let pay_time = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let pay_price = "0.01";
    let signature = sign::notify(
        &NotifyFields {
            aoid: &aoid,
            order_id: &order_id,
            pay_price,
            pay_time: &pay_time,
        },
        secret,
    );
    form_urlencoded::Serializer::new(String::new())
        .append_pair("aoid", &aoid)
        .append_pair("order_id", &order_id)
        .append_pair("pay_price", pay_price)
        .append_pair("pay_time", &pay_time)
        .append_pair("more", "")
        .append_pair("detail", "{}")
        .append_pair("sign", signature.as_str())
        .finish()
}

/// Posts the probe as XorPay would, without following a redirect, and says what the answer
/// shows.
async fn probe(url: &reqwest::Url, secret: &AppSecret) -> Finding {
    let http = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // Straight to the URL, as XorPay sends it, not through this machine's proxy.
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(http) => http,
        Err(error) => {
            return Finding::bad(
                Level::Fault,
                "probe",
                format!("cannot set up HTTP: {error}"),
                "run the doctor again",
            );
        }
    };
    let sent = http
        .post(url.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(probe_body(secret))
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(error) => {
            return Finding::bad(
                Level::Fault,
                "probe",
                format!("no answer from {url}: {}", crate::failure::chain(&error)),
                "XorPay must reach it from the internet: check that the shop runs, its DNS \
                 record and the firewall",
            );
        }
    };
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response.text().await.unwrap_or_default();
    let excerpt: String = body.trim().chars().take(60).collect();
    match status {
        409 => Finding::ok(
            "probe",
            "a signed notification for an order that does not exist was refused with 409, \
             as xorpay-rs refuses it",
        ),
        300..=399 => Finding::bad(
            Level::Fault,
            "probe",
            format!(
                "{url} answers with a redirect (HTTP {status} to {}): XorPay does not follow \
                 it, and counts it as a failed delivery",
                location.as_deref().unwrap_or("nowhere")
            ),
            "give XorPay the final address (https, host and trailing slash exactly as served)",
        ),
        200..=299 => Finding::bad(
            Level::Fault,
            "probe",
            format!(
                "{url} acknowledged (HTTP {status}) a payment of an order that does not exist: \
                 the route does not check notifications against its orders"
            ),
            "answer notifications with Payments::answer or the notify router, which refuse \
             unknown orders",
        ),
        400 | 401 | 403 => Finding::bad(
            Level::Fault,
            "probe",
            format!(
                "{url} refused the probe (HTTP {status} {excerpt:?}): the route checks \
                 signatures with another secret than this one, or something in front of it \
                 refuses XorPay's posts"
            ),
            "give the shop the same app secret, and let POSTs through to the route",
        ),
        404 | 405 => Finding::bad(
            Level::Fault,
            "probe",
            format!("{url} answered HTTP {status}: nothing takes notifications at this path"),
            "mount the notify route at exactly this path (the path of the service's notify_url)",
        ),
        _ => Finding::bad(
            Level::Fault,
            "probe",
            format!(
                "{url} answered HTTP {status} {excerpt:?}, where xorpay-rs answers 409: a \
                 proxy, CDN or firewall in the way, or the shop cannot reach its store"
            ),
            "let XorPay's POSTs reach the shop unchanged, and check the shop's log",
        ),
    }
}
