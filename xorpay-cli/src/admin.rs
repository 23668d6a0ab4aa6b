//! `xorpay trigger`, `deliveries` and `resend`: a running sandbox driven through its
//! `/_sandbox/` routes, as Stripe's CLI drives its test mode. None of them signs anything, so
//! none needs the secret.

use std::process::ExitCode;

use clap::{Args as ClapArgs, ValueEnum};
use serde_json::Value;

use crate::failure::{Failure, print_json};

/// Where the sandbox is, shared by the commands that drive it.
#[derive(ClapArgs)]
pub(crate) struct SandboxUrl {
    /// The sandbox's address, as `xorpay sandbox` printed it.
    #[arg(
        long = "sandbox",
        env = "XORPAY_SANDBOX_URL",
        value_name = "URL",
        default_value = "http://127.0.0.1:8899"
    )]
    url: String,
}

/// What happens to the order.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Event {
    /// The payer pays: the order becomes `payed` and its notification is delivered.
    Paid,
    /// The unpaid order expires now.
    Expired,
    /// The payer pays but XorPay cannot take its fee: the order becomes `fee_error` and no
    /// notification is sent.
    #[value(name = "fee_error")]
    FeeError,
}

/// Make something happen to a sandbox order, found by the merchant's order number.
#[derive(ClapArgs)]
#[command(after_help = "Examples:\n  \
    xorpay trigger paid order-1\n  \
    xorpay trigger expired order-2 --sandbox http://127.0.0.1:8899")]
pub(crate) struct TriggerArgs {
    /// What happens.
    event: Event,
    /// The merchant's order number.
    order_id: String,
    /// The merchant, when several on the sandbox use this order number.
    #[arg(long, value_name = "AID")]
    aid: Option<String>,
    /// Print the order as the sandbox answers it, as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    sandbox: SandboxUrl,
}

/// List the notification requests the sandbox made, oldest order first, with what each
/// carried and how it was answered.
#[derive(ClapArgs)]
#[command(after_help = "Examples:\n  \
    xorpay deliveries\n  \
    xorpay deliveries --order order-1 --json")]
pub(crate) struct DeliveriesArgs {
    /// Only the requests for this order number.
    #[arg(long = "order", value_name = "ORDER_ID")]
    order_id: Option<String>,
    /// Only this merchant's.
    #[arg(long, value_name = "AID")]
    aid: Option<String>,
    /// Print the log as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    sandbox: SandboxUrl,
}

/// Send a logged notification request again, exactly as before, to the order's notify URL.
#[derive(ClapArgs)]
#[command(after_help = "Example:\n  \
    xorpay resend 5f0c…e1.1    (an id from `xorpay deliveries`)")]
pub(crate) struct ResendArgs {
    /// The request's id, as `xorpay deliveries` lists it (AOID.N).
    delivery: String,
    /// Print the new log entry as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    sandbox: SandboxUrl,
}

pub(crate) async fn trigger(args: &TriggerArgs) -> Result<ExitCode, Failure> {
    let sandbox = Admin::new(&args.sandbox)?;
    let mut query = vec![("order_id", args.order_id.as_str())];
    if let Some(aid) = &args.aid {
        query.push(("aid", aid));
    }
    let orders = sandbox.get("/_sandbox/orders", &query).await?;
    let orders = orders.as_array().map(Vec::as_slice).unwrap_or_default();
    let aoid = match orders {
        [order] => order["aoid"].as_str().unwrap_or_default().to_owned(),
        [] => {
            return Err(Failure::new(format!(
                "the sandbox at {} has no order {:?}: check the number, or --aid",
                sandbox.base, args.order_id
            )));
        }
        _ => {
            return Err(Failure::new(format!(
                "several merchants have an order {:?}: say whose with --aid",
                args.order_id
            )));
        }
    };
    let action = match args.event {
        Event::Paid => "pay",
        Event::Expired => "expire",
        Event::FeeError => "fee_error",
    };
    let order = sandbox
        .post(&format!("/_sandbox/orders/{aoid}/{action}"))
        .await?;
    if args.json {
        print_json(&order);
    } else {
        println!(
            "{}: {} (aoid {aoid})",
            args.order_id,
            order["state"].as_str().unwrap_or("?")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn deliveries(args: &DeliveriesArgs) -> Result<ExitCode, Failure> {
    let sandbox = Admin::new(&args.sandbox)?;
    let mut query = Vec::new();
    if let Some(order_id) = &args.order_id {
        query.push(("order_id", order_id.as_str()));
    }
    if let Some(aid) = &args.aid {
        query.push(("aid", aid.as_str()));
    }
    let log = sandbox.get("/_sandbox/deliveries", &query).await?;
    if args.json {
        print_json(&log);
        return Ok(ExitCode::SUCCESS);
    }
    let entries = log.as_array().map(Vec::as_slice).unwrap_or_default();
    if entries.is_empty() {
        println!("no notification has been sent");
    }
    for entry in entries {
        print_entry(entry);
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn resend(args: &ResendArgs) -> Result<ExitCode, Failure> {
    let sandbox = Admin::new(&args.sandbox)?;
    let entry = sandbox
        .post(&format!("/_sandbox/deliveries/{}/resend", args.delivery))
        .await?;
    if args.json {
        print_json(&entry);
    } else {
        print_entry(&entry);
    }
    Ok(ExitCode::SUCCESS)
}

/// One request: its id and order, what was sent, and the answer.
fn print_entry(entry: &Value) {
    let text = |name: &str| entry[name].as_str().unwrap_or_default().to_owned();
    let answer = match (entry["status"].as_u64(), entry["error"].as_str()) {
        (Some(status), _) => format!("answered {status} {:?}", text("body")),
        (None, Some(error)) => format!("no answer: {error}"),
        (None, None) => "no answer".to_owned(),
    };
    println!(
        "{}  order {}  attempt {} {}  {answer}",
        text("id"),
        text("order_id"),
        entry["attempt"],
        text("kind")
    );
    let sent = entry["fields"]
        .as_object()
        .map(|fields| {
            let mut form = form_urlencoded::Serializer::new(String::new());
            for (name, value) in fields {
                form.append_pair(name, value.as_str().unwrap_or_default());
            }
            form.finish()
        })
        .unwrap_or_default();
    println!("    sent {sent}");
}

/// The sandbox's admin routes.
struct Admin {
    base: String,
    http: reqwest::Client,
}

impl Admin {
    fn new(url: &SandboxUrl) -> Result<Admin, Failure> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|error| Failure::new(format!("cannot set up HTTP: {error}")))?;
        Ok(Admin {
            base: url.url.trim_end_matches('/').to_owned(),
            http,
        })
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, Failure> {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        let request = self.http.get(format!("{}{path}?{query}", self.base));
        self.answer(request).await
    }

    async fn post(&self, path: &str) -> Result<Value, Failure> {
        self.answer(self.http.post(format!("{}{path}", self.base)))
            .await
    }

    /// The JSON answer of a 200; anything else as a failure that says what to do.
    async fn answer(&self, request: reqwest::RequestBuilder) -> Result<Value, Failure> {
        let unreachable = |error: reqwest::Error| {
            Failure::new(format!(
                "no sandbox answers at {} ({}): start one with `xorpay sandbox`, or give its \
                 address with --sandbox",
                self.base,
                crate::failure::chain(&error)
            ))
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let body = response.text().await.map_err(unreachable)?;
        let json: Option<Value> = serde_json::from_str(&body).ok();
        match (status.as_u16(), json) {
            (200, Some(json)) => Ok(json),
            (404, Some(json)) if json["error"] == "not_found" => Err(Failure::new(
                "the sandbox has no such order or delivery: `xorpay deliveries` lists them",
            )),
            (409, Some(json)) => Err(Failure::new(format!(
                "the order is {} and cannot change that way",
                json["state"].as_str().unwrap_or("in another state")
            ))),
            (status, _) => Err(Failure::new(format!(
                "{} answered HTTP {status}, not as a sandbox does: is --sandbox the address \
                 `xorpay sandbox` printed?",
                self.base
            ))),
        }
    }
}
