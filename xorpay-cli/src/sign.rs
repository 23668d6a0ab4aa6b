//! `xorpay sign`: a signature computed offline with the library's own signing, and with
//! `--explain` every value in signing order, the secret masked, and the MD5 input: XorPay's
//! signature checker, on the merchant's machine.

use std::process::ExitCode;

use clap::{ArgGroup, Args as ClapArgs};
use serde_json::json;
use xorpay::sign::{self, BarcodeFields, PayFields};
use xorpay::{AppSecret, BarcodePayType, PayType, Price, Signature};

use crate::failure::{Failure, print_json};
use crate::secret::SecretArgs;

/// Print the signature XorPay expects for a request, computed offline.
///
/// Formulas (docs/protocol.md §1.3): pay and cashier sign
/// `name + pay_type + price + order_id + notify_url + app_secret`; barcode adds `barcode`
/// before the secret; `--query2` signs `order_id + app_secret`; `--refund` signs
/// `price + app_secret`. The secret comes from XORPAY_APP_SECRET or --secret-file.
#[derive(ClapArgs)]
#[command(
    group(ArgGroup::new("formula").required(true).args(["pay_type", "query2", "refund"])),
    after_help = "Examples:\n  \
      XORPAY_APP_SECRET=… xorpay sign --explain --pay-type native --name 会员月卡 \\\n    \
      --price 19.90 --order-id order-1 --notify-url https://shop.example.com/xorpay/notify\n  \
      xorpay sign --secret-file secret.txt --query2 order-1\n  \
      xorpay sign --secret-file secret.txt --refund 5.00"
)]
pub(crate) struct Args {
    /// The pay_type: native, jsapi (also the cashier's) or alipay; with --barcode,
    /// wechat_barcode or alipay_barcode.
    #[arg(long, value_name = "TYPE", requires_all = ["name", "price", "order_id", "notify_url"])]
    pay_type: Option<String>,
    /// The product name, as sent.
    #[arg(long, value_name = "NAME", requires = "pay_type")]
    name: Option<String>,
    /// The amount in yuan, e.g. 19.90 (signed in the two-decimal form xorpay-rs sends).
    #[arg(long, value_name = "PRICE", requires = "pay_type")]
    price: Option<String>,
    /// The merchant's order number.
    #[arg(long, value_name = "ORDER_ID", requires = "pay_type")]
    order_id: Option<String>,
    /// Where XorPay posts the notification, exactly as sent.
    #[arg(long, value_name = "URL", requires = "pay_type")]
    notify_url: Option<String>,
    /// The payer's payment code: signs a barcode (付款码) payment.
    #[arg(long, value_name = "CODE", requires = "pay_type")]
    barcode: Option<String>,
    /// Sign a query by order number instead: md5(order_id + app_secret).
    #[arg(long, value_name = "ORDER_ID")]
    query2: Option<String>,
    /// Sign a refund of PRICE instead: md5(price + app_secret).
    #[arg(long, value_name = "PRICE")]
    refund: Option<String>,
    /// Print each value in signing order, the secret masked, the MD5 input and the signature.
    #[arg(long)]
    explain: bool,
    /// Print the formula, the values and the signature as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    secret: SecretArgs,
}

/// One formula's values, in signing order, with how to sign them.
struct Signing {
    formula: &'static str,
    values: Vec<(&'static str, String)>,
    notes: Vec<String>,
    sign: Box<dyn Fn(&AppSecret) -> Signature>,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let signing = signing(args)?;
    let secret = args.secret.secret()?;
    let signature = (signing.sign)(&secret);
    if args.json {
        let values: Vec<_> = signing
            .values
            .iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect();
        print_json(&json!({
            "formula": signing.formula,
            "values": values,
            "md5_input_before_secret": md5_input(&signing),
            "sign": signature.as_str(),
        }));
    } else if args.explain {
        print!("{}", explanation(&signing, secret_length(&args.secret)?));
        println!("sign = {signature}");
    } else {
        println!("{signature}");
    }
    Ok(ExitCode::SUCCESS)
}

fn md5_input(signing: &Signing) -> String {
    signing
        .values
        .iter()
        .map(|(_, value)| value.as_str())
        .collect()
}

/// The secret's length in characters: all the explanation tells of it.
fn secret_length(secret: &SecretArgs) -> Result<usize, Failure> {
    Ok(secret.raw()?.map_or(0, |raw| raw.text.chars().count()))
}

/// The values in signing order, the secret masked, then the MD5 input.
fn explanation(signing: &Signing, secret_chars: usize) -> String {
    let mut names: Vec<&str> = signing.values.iter().map(|(name, _)| *name).collect();
    names.push("app_secret");
    let width = names.iter().map(|name| name.len()).max().unwrap_or(0);
    let mut text = format!("sign = md5({})\n", names.join(" + "));
    for (place, (name, value)) in (1..).zip(&signing.values) {
        text.push_str(&format!("  {place}. {name:<width$} = {value:?}\n"));
    }
    text.push_str(&format!(
        "  {}. {:<width$} = <not shown: {secret_chars} characters>\n",
        signing.values.len() + 1,
        "app_secret"
    ));
    for note in &signing.notes {
        text.push_str(&format!("note: {note}\n"));
    }
    text.push_str(&format!(
        "md5 input before the secret: {}\n",
        md5_input(signing)
    ));
    text
}

fn signing(args: &Args) -> Result<Signing, Failure> {
    if let Some(order_id) = &args.query2 {
        let order_id = order_id.clone();
        return Ok(Signing {
            formula: "query2",
            values: vec![("order_id", order_id.clone())],
            notes: Vec::new(),
            sign: Box::new(move |secret| sign::query2(&order_id, secret)),
        });
    }
    if let Some(text) = &args.refund {
        let (price, notes) = price(text, "--refund")?;
        return Ok(Signing {
            formula: "refund",
            values: vec![("price", price.to_wire().to_string())],
            notes,
            sign: Box::new(move |secret| sign::refund(price, secret)),
        });
    }
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let (name, order_id, notify_url) = (
        text(&args.name),
        text(&args.order_id),
        text(&args.notify_url),
    );
    let pay_type = text(&args.pay_type);
    let (price, notes) = price(&text(&args.price), "--price")?;
    let mut values = vec![
        ("name", name.clone()),
        ("pay_type", pay_type.clone()),
        ("price", price.to_wire().to_string()),
        ("order_id", order_id.clone()),
        ("notify_url", notify_url.clone()),
    ];
    if let Some(barcode) = args.barcode.clone() {
        let pay_type = match pay_type.as_str() {
            "wechat_barcode" => BarcodePayType::WechatBarcode,
            "alipay_barcode" => BarcodePayType::AlipayBarcode,
            other => {
                return Err(Failure::new(format!(
                    "--pay-type {other:?} with --barcode: use wechat_barcode or alipay_barcode"
                )));
            }
        };
        values.push(("barcode", barcode.clone()));
        return Ok(Signing {
            formula: "barcode",
            values,
            notes,
            sign: Box::new(move |secret| {
                sign::barcode(
                    &BarcodeFields {
                        name: &name,
                        pay_type,
                        price,
                        order_id: &order_id,
                        notify_url: &notify_url,
                        barcode: &barcode,
                    },
                    secret,
                )
            }),
        });
    }
    let pay_type = match pay_type.as_str() {
        "native" => PayType::Native,
        "jsapi" => PayType::Jsapi,
        "alipay" => PayType::Alipay,
        other => {
            return Err(Failure::new(format!(
                "--pay-type {other:?}: use native, jsapi (also for the cashier) or alipay; a \
                 barcode payment needs --barcode"
            )));
        }
    };
    Ok(Signing {
        formula: "pay",
        values,
        notes,
        sign: Box::new(move |secret| {
            sign::pay(
                &PayFields {
                    name: &name,
                    pay_type,
                    price,
                    order_id: &order_id,
                    notify_url: &notify_url,
                },
                secret,
            )
        }),
    })
}

/// A price as typed, and a note when xorpay-rs sends it in another form.
fn price(text: &str, flag: &str) -> Result<(Price, Vec<String>), Failure> {
    let price: Price = text
        .parse()
        .map_err(|error| Failure::new(format!("{flag} {text:?}: {error} (yuan, e.g. 19.90)")))?;
    let wire = price.to_wire().to_string();
    let notes = if wire == text {
        Vec::new()
    } else {
        vec![format!(
            "price {text:?} is signed as {wire:?}, the form xorpay-rs sends; XorPay signs the \
             text it receives, so a client sending {text:?} must sign {text:?}"
        )]
    };
    Ok((price, notes))
}
