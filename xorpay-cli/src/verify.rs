//! `xorpay verify`: a notification body checked exactly as the library checks it (strict
//! form, signature over the values as received), with its fields shown.

use std::io::Read;
use std::process::ExitCode;

use clap::Args as ClapArgs;
use serde_json::{Map, Value, json};
use xorpay::{Notification, NotificationError};

use crate::failure::{Failure, print_json};
use crate::secret::SecretArgs;

/// Check a notification body's signature, as the library would, and print its fields.
///
/// The body is read from --body or stdin (one trailing newline is dropped). The exit status is
/// 0 when it verifies, 1 when it does not.
#[derive(ClapArgs)]
#[command(after_help = "Examples:\n  \
    xorpay verify --secret-file secret.txt < notification.txt\n  \
    XORPAY_APP_SECRET=… xorpay verify --body 'aoid=…&order_id=…&pay_price=…&pay_time=…&sign=…'")]
pub(crate) struct Args {
    /// The raw form body XorPay posted; read from stdin when not given.
    #[arg(long, value_name = "BODY")]
    body: Option<String>,
    /// Print the fields and the verdict as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    secret: SecretArgs,
}

/// The fields shown, in the order XorPay sends them; `more` and `detail` are not signed.
const SHOWN: [(&str, bool); 7] = [
    ("aoid", true),
    ("order_id", true),
    ("pay_price", true),
    ("pay_time", true),
    ("more", false),
    ("detail", false),
    ("sign", true),
];

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let secret = args.secret.secret()?;
    let body = match &args.body {
        Some(body) => body.as_bytes().to_vec(),
        None => read_stdin()?,
    };
    let verdict = Notification::parse(&body).and_then(|notification| notification.verify(&secret));
    let fields: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let value_of = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    if args.json {
        let mut shown = Map::new();
        for (name, _) in SHOWN {
            if let Some(value) = value_of(name) {
                shown.insert(name.to_owned(), Value::from(value));
            }
        }
        print_json(&json!({
            "verified": verdict.is_ok(),
            "error": verdict.as_ref().err().map(ToString::to_string),
            "fields": shown,
        }));
    } else {
        for (name, signed) in SHOWN {
            let Some(value) = value_of(name) else {
                continue;
            };
            let unsigned = if signed { "" } else { "  (not signed)" };
            println!("{name:<9} = {value:?}{unsigned}");
        }
        match &verdict {
            Ok(_) => println!(
                "verified: sign matches md5(aoid + order_id + pay_price + pay_time + app_secret)"
            ),
            Err(error @ NotificationError::Signature(_)) => println!(
                "NOT verified: {error} (forged, altered, or signed with another app secret \
                 than this one)"
            ),
            Err(error) => println!("NOT verified: {error}"),
        }
    }
    Ok(if verdict.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The body from stdin, at most one byte over the library's cap (which then refuses it),
/// without the newline a shell or an editor adds.
fn read_stdin() -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    let limit = u64::try_from(Notification::MAX_BODY + 1).unwrap_or(u64::MAX);
    std::io::stdin()
        .take(limit)
        .read_to_end(&mut body)
        .map_err(|error| Failure::new(format!("cannot read the body from stdin: {error}")))?;
    if body.ends_with(b"\n") {
        body.pop();
        if body.ends_with(b"\r") {
            body.pop();
        }
    }
    Ok(body)
}
