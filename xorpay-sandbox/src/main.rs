//! The `xorpay-sandbox` program: a local XorPay on a loopback port, until killed.
//!
//! It prints exactly `listening on http://ADDR` on stdout once it accepts connections (scripts
//! wait for that line), then nothing else. It never prints the secret.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use xorpay_sandbox::Sandbox;

/// A faithful local XorPay: XorPay's API with signature checks, order states, signed
/// notifications with retries, and fault injection, on a loopback port.
///
/// Besides XorPay's routes (/api/pay/{aid}, /api/cashier/{aid}, /api/barcode_pay/{aid},
/// /api/openid/{aid}, /api/query/{aoid}, /api/query2/{aid}, /api/refund/{aoid}, /qr) it
/// serves /_sandbox/: POST /_sandbox/orders/{aoid}/pay makes the payer pay, GET
/// /_sandbox/orders shows orders and notification attempts, /_sandbox/faults injects faults,
/// and /_sandbox/jsbridge.js stands in for WeChat's WeixinJSBridge.
// No `Debug`: the arguments hold the secret, and nothing should be able to print them.
#[derive(Parser)]
#[command(name = "xorpay-sandbox", version, about, long_about)]
struct Args {
    /// Address to listen on; loopback addresses only (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8899")]
    listen: SocketAddr,

    /// The merchant's aid (app id); requests for any other aid get aid_not_exist.
    #[arg(long, value_name = "AID")]
    aid: String,

    /// The merchant's app secret: checks request signatures and signs notifications. Never
    /// printed.
    #[arg(long, value_name = "SECRET", hide_default_value = true)]
    secret: String,

    /// A further merchant on the same sandbox, as AID=SECRET (repeatable): a platform hosting
    /// several shops. Each has its own orders, order numbers and unlimited balance. Never
    /// printed.
    #[arg(long = "more-merchant", value_name = "AID=SECRET", value_parser = merchant_pair)]
    more_merchants: Vec<(String, String)>,

    /// The unit of the notification retry schedule in milliseconds: retries come 1, 2, 4, 16,
    /// 64 and 300 units after the previous attempt (XorPay: minutes).
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    retry_unit_ms: u64,

    /// Refuse request signatures in uppercase hex (by default either case is accepted, as
    /// XorPay very probably does).
    #[arg(long)]
    strict_lowercase_sign: bool,

    /// The merchant's prepaid balance in fen (1 yuan = 100 fen); orders whose fee it cannot
    /// cover get fee_error. Unlimited when not given.
    #[arg(long, value_name = "FEN")]
    balance_fen: Option<u64>,

    /// XorPay's fee in basis points of each payment (100 = 1%), at least 1 fen per paid
    /// order unless 0.
    #[arg(long, value_name = "BP", default_value_t = 100)]
    fee_rate_bp: u32,

    /// How long one notification request may take, in milliseconds, before it counts as
    /// failed.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    notify_timeout_ms: u64,

    /// Start with the merchant account frozen: creating orders gets app_off.
    #[arg(long)]
    app_off: bool,

    /// Keep the orders in this file between runs (JSON, rewritten after every change). When
    /// it exists it is loaded, and its balance and frozen flag win over the flags above.
    #[arg(long, value_name = "FILE")]
    state: Option<std::path::PathBuf>,
}

/// `AID=SECRET`, split at the first `=` (an aid has none). The error never repeats the text,
/// which holds a secret.
fn merchant_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((aid, secret)) if !aid.is_empty() && !secret.is_empty() => {
            Ok((aid.to_owned(), secret.to_owned()))
        }
        _ => Err("expected AID=SECRET".to_owned()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // Installed before the ready line, so that a SIGTERM sent right after it stops the
    // sandbox cleanly instead of killing it with the default action.
    let termination = Termination::install();
    let more_merchants: Vec<(&str, &str)> = args
        .more_merchants
        .iter()
        .map(|(aid, secret)| (aid.as_str(), secret.as_str()))
        .collect();
    let config = Sandbox::builder()
        .listen(args.listen)
        .aid(args.aid)
        .secret(args.secret)
        .more_merchants(&more_merchants)
        .retry_unit(Duration::from_millis(args.retry_unit_ms))
        .strict_lowercase_sign(args.strict_lowercase_sign)
        .balance_fen(args.balance_fen)
        .fee_rate_bp(args.fee_rate_bp)
        .notify_timeout(Duration::from_millis(args.notify_timeout_ms))
        .app_off(args.app_off);
    let sandbox = match args.state {
        Some(state) => config.state_file(state).build().start().await,
        None => config.build().start().await,
    };
    let sandbox = match sandbox {
        Ok(sandbox) => sandbox,
        Err(error) => {
            eprintln!("xorpay-sandbox: cannot start on {}: {error}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "listening on {}", sandbox.base_url())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    termination.wait().await;
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}

/// SIGINT or SIGTERM (Ctrl-C elsewhere). When a handler cannot be installed, the program
/// simply runs until killed outright.
struct Termination {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Termination {
    #[cfg(unix)]
    fn install() -> Termination {
        use tokio::signal::unix::{SignalKind, signal};
        Termination {
            signals: signal(SignalKind::interrupt())
                .and_then(|interrupt| Ok((interrupt, signal(SignalKind::terminate())?)))
                .ok(),
        }
    }

    #[cfg(not(unix))]
    fn install() -> Termination {
        Termination {}
    }

    #[cfg(unix)]
    async fn wait(self) {
        match self.signals {
            Some((mut interrupt, mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            None => std::future::pending().await,
        }
    }

    #[cfg(not(unix))]
    async fn wait(self) {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
