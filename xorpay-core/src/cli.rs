//! The operator's command line (feature `cli`): the store operations a person runs, mounted by
//! the merchant in a binary of their own, because they need the merchant's order type
//! (reconciliation re-signs orders with it). [`Command::parse`] reads the arguments,
//! [`Command::run`] runs them against the shop's service.
//!
//! ```no_run
//! use xorpay::prelude::*;
//! # #[derive(XorPayOrder, serde::Serialize, serde::Deserialize, Debug)]
//! # #[xorpay(kind = native, notify_url = from_client)]
//! # struct ShopOrder {
//! #     #[xorpay(order_id)] id: String,
//! #     #[xorpay(name)] title: String,
//! #     #[xorpay(price)] price: Price,
//! # }
//!
//! // src/bin/operator.rs
//! #[tokio::main]
//! async fn main() -> Result<std::process::ExitCode, Box<dyn std::error::Error>> {
//!     // First, so that --help and a mistyped command need no settings.
//!     let command = xorpay::cli::Command::parse();
//!     // The shop's settings, without the background work: the command is all it does.
//!     let payments: Payments<ShopOrder> = Payments::builder()
//!         .aid(std::env::var("XORPAY_AID")?)
//!         .secret(std::env::var("XORPAY_APP_SECRET")?)
//!         .notify_url("https://shop.example.com/xorpay/notify")
//!         .store(SqliteStore::open("shop.sqlite")?)
//!         .no_background()
//!         .build()?;
//!     Ok(command.run(&payments).await)
//! }
//! ```
//!
//! Its commands (`operator --help` lists them):
//! - `orders --attention`: the orders a person must act on (a refund in doubt, a paid order
//!   whose `aoid` only XorPay's dashboard can tell, `fee_error`), each with what to do;
//! - `orders --in-doubt`: only those with a refund in doubt;
//! - `refund resolve ORDER_ID KEY --made|--not-made`: settles a refund in doubt as XorPay's
//!   dashboard shows it;
//! - `reconcile`: one reconciliation pass, with a progress bar on a terminal when many
//!   orders are due.
//!
//! `--json` prints what a script reads. Errors are one line on stderr; the exit status is 0 on
//! success, 1 on a failure, 2 on a usage error.

use std::cell::Cell;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

use crate::order::{Order, Paid, StoredOrder};
use crate::price::Price;
use crate::service::{Listed, Payments, ServiceOrder};

/// An operator's command, read from the process's arguments: [`Command::parse`], then
/// [`Command::run`].
pub struct Command(Cli);

/// The store operations of a shop that takes payments through XorPay.
#[derive(Parser)]
#[command(after_help = "Examples:\n  \
        operator orders --attention\n  \
        operator refund resolve order-42 refund-1 --made\n  \
        operator reconcile")]
struct Cli {
    #[command(subcommand)]
    command: Operation,
}

#[derive(Subcommand)]
enum Operation {
    Orders(OrdersArgs),
    Refund(RefundArgs),
    Reconcile(ReconcileArgs),
}

/// List the orders a person must act on, each with what to do.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  operator orders --attention\n  operator orders --in-doubt --json"
)]
struct OrdersArgs {
    /// Every order needing a person: a refund in doubt, an unknown aoid, fee_error.
    #[arg(long, required_unless_present = "in_doubt")]
    attention: bool,
    /// Only the orders with a refund in doubt.
    #[arg(long, conflicts_with = "attention")]
    in_doubt: bool,
    /// At most this many orders.
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: usize,
    /// Print them as JSON.
    #[arg(long)]
    json: bool,
}

/// Settle a refund in doubt as XorPay's merchant dashboard shows it.
#[derive(Args)]
struct RefundArgs {
    #[command(subcommand)]
    action: RefundAction,
}

#[derive(Subcommand)]
enum RefundAction {
    Resolve(ResolveArgs),
}

/// Settle the refund KEY of ORDER_ID, in doubt, as made or not made.
#[derive(Args)]
#[command(after_help = "Example:\n  operator refund resolve order-42 refund-1 --made")]
struct ResolveArgs {
    /// The order number.
    order_id: String,
    /// The refund's key, as `orders --in-doubt` lists it.
    key: String,
    /// XorPay's dashboard shows the refund.
    #[arg(long, required_unless_present = "not_made")]
    made: bool,
    /// XorPay's dashboard shows no such refund.
    #[arg(long, conflicts_with = "made")]
    not_made: bool,
}

/// Run one reconciliation pass: ask XorPay about the orders due, and record what it says.
#[derive(Args)]
#[command(after_help = "Example:\n  operator reconcile --json")]
struct ReconcileArgs {
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
}

impl Command {
    /// Reads the command from the process's arguments. `--help` and `--version` print and
    /// end the process (status 0), as does a usage error (on stderr, status 2): call it
    /// before anything that needs the shop's settings.
    pub fn parse() -> Command {
        Command(Cli::parse())
    }

    /// Runs the command against `payments`, printing what it finds on stdout and a one-line
    /// error on stderr; returns the exit status. Build `payments` with `.no_background()`:
    /// the command is all the work the process does.
    pub async fn run<O: ServiceOrder>(self, payments: &Payments<O>) -> ExitCode {
        let outcome = match self.0.command {
            Operation::Orders(args) => orders(payments, &args).await,
            Operation::Refund(RefundArgs {
                action: RefundAction::Resolve(args),
            }) => resolve(payments, &args).await,
            Operation::Reconcile(args) => reconcile(payments, &args).await,
        };
        match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        }
    }
}

async fn orders<O: ServiceOrder>(payments: &Payments<O>, args: &OrdersArgs) -> Result<(), String> {
    let listed = payments
        .needing_attention(args.limit)
        .await
        .map_err(|error| format!("cannot read the orders: {error}"))?;
    let rows: Vec<Value> = listed
        .iter()
        .filter(|listed| !args.in_doubt || in_doubt(&listed.order).is_some())
        .map(row)
        .collect();
    if args.json {
        print_json(&Value::from(rows));
        return Ok(());
    }
    if rows.is_empty() {
        println!("no order needs attention");
    }
    for row in &rows {
        println!(
            "{}  {}  {}  {}",
            text(&row["order_id"]),
            text(&row["state"]),
            text(&row["price"]),
            text(&row["reason"])
        );
        println!("    do: {}", text(&row["do"]));
    }
    Ok(())
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// The paid order, when it has a refund in doubt.
fn in_doubt<O>(order: &StoredOrder<O>) -> Option<&Order<O, Paid>> {
    match order {
        StoredOrder::Paid(paid) if paid.refund_in_doubt().is_some() => Some(paid),
        _ => None,
    }
}

fn price_of<O>(order: &StoredOrder<O>) -> Price {
    match order {
        StoredOrder::Created(order) => order.price(),
        StoredOrder::Pending(order) => order.price(),
        StoredOrder::Paid(order) => order.price(),
        StoredOrder::Expired(order) => order.price(),
    }
}

/// One order needing attention: why, and what to do.
fn row<O>(listed: &Listed<O>) -> Value {
    let order = &listed.order;
    let id = order.order_id();
    let mut row = json!({
        "order_id": id,
        "state": order.state_name(),
        "price": price_of(order).to_wire().as_str(),
        "created_at": listed.created_at.unix_timestamp(),
    });
    let (reason, action) = match order {
        StoredOrder::Paid(paid) => match (paid.refund_in_doubt(), paid.aoid()) {
            (Some(refund), _) => {
                row["refund_key"] = Value::from(refund.key());
                row["refund_amount"] = Value::from(refund.amount().to_wire().as_str());
                (
                    format!(
                        "refund {:?} of {} is in doubt: XorPay's answer did not come",
                        refund.key(),
                        refund.amount()
                    ),
                    format!(
                        "look for it on XorPay's dashboard, then `refund resolve {id} {} \
                         --made` or `--not-made`",
                        refund.key()
                    ),
                )
            }
            (None, None) => (
                "paid, but only XorPay's dashboard knows its aoid (every notification failed)"
                    .to_owned(),
                "read the aoid on XorPay's dashboard and record it with \
                 Payments::record_aoid; refunds need it"
                    .to_owned(),
            ),
            (None, Some(_)) => (
                "paid, and flagged by the store".to_owned(),
                "check it on XorPay's dashboard".to_owned(),
            ),
        },
        _ => (
            "XorPay holds it as fee_error: the payer paid, but XorPay could not take its fee"
                .to_owned(),
            "top up the prepaid balance on XorPay's dashboard".to_owned(),
        ),
    };
    row["reason"] = Value::from(reason);
    row["do"] = Value::from(action);
    row
}

async fn resolve<O: ServiceOrder>(
    payments: &Payments<O>,
    args: &ResolveArgs,
) -> Result<(), String> {
    let stored = payments
        .order(&args.order_id)
        .await
        .map_err(|error| format!("cannot read order {:?}: {error}", args.order_id))?;
    let Some(StoredOrder::Paid(paid)) = stored else {
        return Err(format!(
            "order {:?} is not a paid order: `orders --in-doubt` lists the refunds to resolve",
            args.order_id
        ));
    };
    let refund = payments
        .resolve_refund(&paid, &args.key, args.made)
        .await
        .map_err(|error| error.to_string())?;
    println!(
        "refund {:?} of order {} ({}) resolved as {}",
        refund.key(),
        args.order_id,
        refund.amount(),
        if args.made { "made" } else { "not made" }
    );
    Ok(())
}

async fn reconcile<O: ServiceOrder>(
    payments: &Payments<O>,
    args: &ReconcileArgs,
) -> Result<(), String> {
    let bar = ProgressBar::new(!args.json && std::io::stderr().is_terminal());
    let report = payments
        .reconcile_with_progress(|done, due| bar.show(done, due))
        .await
        .map_err(|error| format!("reconciliation stopped: {error}"))?;
    bar.finish();
    let paid: Vec<&str> = report.paid.iter().map(|order| order.order_id()).collect();
    if args.json {
        print_json(&json!({
            "paid": paid,
            "recovered": report.recovered,
            "expired": report.expired,
            "fee_error": report.fee_error,
            "open": report.open,
            "failed": report.failed,
        }));
        return Ok(());
    }
    println!(
        "reconciled: {} paid, {} recovered, {} expired, {} fee_error, {} still open, {} failed \
         (asked again later)",
        paid.len(),
        report.recovered,
        report.expired,
        report.fee_error.len(),
        report.open,
        report.failed
    );
    for id in paid {
        println!("    paid: {id}");
    }
    for id in &report.fee_error {
        println!("    fee_error: {id} (top up the prepaid balance on XorPay's dashboard)");
    }
    Ok(())
}

fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// A one-line progress bar on stderr, shown only on a terminal and when many orders are due.
struct ProgressBar {
    on: bool,
    shown: Cell<bool>,
}

impl ProgressBar {
    /// Fewer orders than this pass too quickly for a bar.
    const MANY: usize = 20;
    const WIDTH: usize = 30;

    fn new(on: bool) -> ProgressBar {
        ProgressBar {
            on,
            shown: Cell::new(false),
        }
    }

    fn show(&self, done: usize, due: usize) {
        if !self.on || due < ProgressBar::MANY {
            return;
        }
        let filled = (done * ProgressBar::WIDTH).checked_div(due).unwrap_or(0);
        let bar: String = (0..ProgressBar::WIDTH)
            .map(|i| if i < filled { '#' } else { '-' })
            .collect();
        let mut stderr = std::io::stderr();
        let _ = write!(stderr, "\rreconciling [{bar}] {done}/{due}");
        let _ = stderr.flush();
        self.shown.set(true);
    }

    fn finish(&self) {
        if self.shown.get() {
            let _ = writeln!(std::io::stderr());
        }
    }
}
