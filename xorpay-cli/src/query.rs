//! `xorpay query2`: where an order stands, asked of XorPay (or a sandbox) by the merchant's
//! order number, through the library's client.

use std::process::ExitCode;

use clap::Args as ClapArgs;
use serde_json::json;
use xorpay::OrderState;
use xorpay::client::Client;

use crate::failure::{Failure, print_json};
use crate::secret::{SecretArgs, missing};

/// Ask XorPay where an order stands, by the merchant's order number (/api/query2).
#[derive(ClapArgs)]
#[command(after_help = "Examples:\n  \
    XORPAY_AID=1000 XORPAY_APP_SECRET=… xorpay query2 order-1\n  \
    XORPAY_BASE_URL=http://127.0.0.1:8899 xorpay query2 --json order-1")]
pub(crate) struct Args {
    /// The merchant's order number.
    order_id: String,
    /// The merchant's aid.
    #[arg(long, env = "XORPAY_AID", value_name = "AID")]
    aid: String,
    /// XorPay's address, or a sandbox's.
    #[arg(
        long,
        env = "XORPAY_BASE_URL",
        value_name = "URL",
        default_value = "https://xorpay.com"
    )]
    base_url: String,
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    secret: SecretArgs,
}

pub(crate) async fn run(args: &Args) -> Result<ExitCode, Failure> {
    let secret = args.secret.raw()?.ok_or_else(missing)?;
    let client = Client::builder()
        .aid(args.aid.as_str())
        .secret(secret.text.as_str())
        .base_url(args.base_url.as_str())
        .build()
        .map_err(|error| Failure::new(format!("{error}; `xorpay doctor` checks the settings")))?;
    let state = client.query2(&args.order_id).await.map_err(|error| {
        Failure::new(format!(
            "query2 {:?} at {}: {error}",
            args.order_id, args.base_url
        ))
    })?;
    let wire = serde_json::to_value(state).unwrap_or_default();
    let wire = wire.as_str().unwrap_or_default();
    if args.json {
        print_json(&json!({
            "order_id": args.order_id,
            "state": wire,
            "paid": state.is_paid(),
        }));
    } else {
        println!("{}: {wire} ({})", args.order_id, meaning(state));
    }
    Ok(ExitCode::SUCCESS)
}

/// What a state means for the merchant (docs/protocol.md §4.4).
fn meaning(state: OrderState) -> &'static str {
    match state {
        OrderState::NotExist => "XorPay has no such order",
        OrderState::New => "created, not paid yet",
        OrderState::Payed => "paid; the notification is not acknowledged yet",
        OrderState::Success => "paid, and the notification was acknowledged",
        OrderState::FeeError => {
            "paid, but XorPay could not take its fee: top up the balance in XorPay's dashboard"
        }
        OrderState::Expire => "expired unpaid",
        _ => "a state this version does not know",
    }
}
