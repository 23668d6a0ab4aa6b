//! `xorpay sandbox`: the local XorPay on a loopback port, until stopped.
//!
//! It prints exactly `listening on http://ADDR` on stdout once it accepts connections
//! (scripts wait for that line), then nothing else. It never prints a secret.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args as ClapArgs;
use xorpay_sandbox::Sandbox;
use zeroize::Zeroizing;

use crate::failure::Failure;
use crate::secret::{SecretArgs, missing};

/// Run the local XorPay: XorPay's API with its signature checks, order states, signed
/// notifications with retries, and fault injection, on a loopback port.
///
/// Besides XorPay's routes (/api/pay/{aid}, /api/cashier/{aid}, /api/barcode_pay/{aid},
/// /api/openid/{aid}, /api/query/{aoid}, /api/query2/{aid}, /api/refund/{aoid}, /qr) it
/// serves /_sandbox/: the payer's actions, the orders and the delivery log, faults, and a
/// WeixinJSBridge stand-in. `xorpay trigger`, `deliveries` and `resend` drive it. The
/// merchant's secret comes from XORPAY_APP_SECRET or --secret-file.
#[derive(ClapArgs)]
#[command(after_help = "Example:\n  \
    XORPAY_APP_SECRET=0123456789abcdef0123456789abcdef xorpay sandbox --aid 1000\n  \
    (then point the shop at XORPAY_BASE_URL=http://127.0.0.1:8899)")]
pub(crate) struct Args {
    /// Address to listen on; loopback addresses only (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8899")]
    listen: SocketAddr,

    /// The merchant's aid (app id); requests for any other aid get aid_not_exist.
    #[arg(long, env = "XORPAY_AID", value_name = "AID")]
    aid: String,

    /// Further merchants on the same sandbox, one `AID=SECRET` per line of FILE: a platform
    /// hosting several shops. Each has its own orders and unlimited balance.
    #[arg(long, value_name = "FILE")]
    more_merchants: Option<PathBuf>,

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

    /// Turn on the magic amounts: prices that take one of XorPay's unhappy paths (4.02
    /// fee_error on payment, 4.08 expired at once, 5.04 create answer lost, 4.09 notified
    /// twice, 4.03 refund refused, 5.02 refund answer lost; the sandbox's README has the
    /// table).
    #[arg(long)]
    magic_amounts: bool,

    /// Keep the orders in this file between runs (JSON, rewritten after every change). When
    /// it exists it is loaded, and its balance and frozen flag win over the flags above.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,

    #[command(flatten)]
    secret: SecretArgs,
}

pub(crate) async fn run(args: Args) -> Result<ExitCode, Failure> {
    // Installed before the ready line, so that a SIGTERM sent right after it stops the
    // sandbox cleanly instead of killing it with the default action.
    let termination = Termination::install();
    let secret = args.secret.raw()?.ok_or_else(missing)?;
    let more = match &args.more_merchants {
        Some(file) => more_merchants(file)?,
        None => Vec::new(),
    };
    let more: Vec<(&str, &str)> = more
        .iter()
        .map(|(aid, secret)| (aid.as_str(), secret.as_str()))
        .collect();
    let config = Sandbox::builder()
        .listen(args.listen)
        .aid(args.aid)
        .secret(secret.text.as_str())
        .more_merchants(&more)
        .retry_unit(Duration::from_millis(args.retry_unit_ms))
        .strict_lowercase_sign(args.strict_lowercase_sign)
        .balance_fen(args.balance_fen)
        .fee_rate_bp(args.fee_rate_bp)
        .notify_timeout(Duration::from_millis(args.notify_timeout_ms))
        .app_off(args.app_off)
        .magic_amounts(args.magic_amounts);
    let sandbox = match args.state {
        Some(state) => config.state_file(state).build().start().await,
        None => config.build().start().await,
    };
    let sandbox = sandbox
        .map_err(|error| Failure::new(format!("cannot start on {}: {error}", args.listen)))?;
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "listening on {}", sandbox.base_url())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return Ok(ExitCode::FAILURE);
    }
    termination.wait().await;
    sandbox.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// `AID=SECRET` lines, split at the first `=` (an aid has none); blank lines and `#`
/// comments are skipped. An error names the line, never its text (it holds a secret).
fn more_merchants(file: &std::path::Path) -> Result<Vec<(String, Zeroizing<String>)>, Failure> {
    let text = Zeroizing::new(
        std::fs::read_to_string(file)
            .map_err(|error| Failure::new(format!("cannot read {}: {error}", file.display())))?,
    );
    let mut merchants = Vec::new();
    for (number, line) in (1..).zip(text.lines()) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((aid, secret)) if !aid.is_empty() && !secret.is_empty() => {
                merchants.push((aid.to_owned(), Zeroizing::new(secret.to_owned())));
            }
            _ => {
                return Err(Failure::new(format!(
                    "{} line {number}: expected AID=SECRET",
                    file.display()
                )));
            }
        }
    }
    Ok(merchants)
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
