//! Quick start: build a signed JSAPI payment request, render the WeChat pay-page script for
//! XorPay's answer, and verify a payment notification, printing each step.
//!
//! Run it with `cargo run --example quickstart`. It talks to nobody: the request is printed,
//! not sent, and XorPay's answer and notification are samples. The credentials and values
//! are those of the project's independent signature vectors, so the printed signatures can
//! be checked against `xorpay-core/tests/data/signatures.json`.

use xorpay::jsapi::BridgeScript;
use xorpay::{Aid, AppSecret, JsapiParams, Notification, Price, Signable, XorPayOrder};

/// The shop's own order type; the derive maps its fields to XorPay's.
#[derive(XorPayOrder)]
#[xorpay(kind = jsapi, notify_url = "http://example.com:3094/pay_callback")]
struct TopUp {
    #[xorpay(order_id)]
    id: u64,
    #[xorpay(openid)]
    payer: String,
    #[xorpay(price)]
    amount: Price,
    #[xorpay(name)]
    title: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Credentials come from your XorPay dashboard; keep the secret out of your source.
    let aid = Aid::new("999")?;
    let secret = AppSecret::new("0123456789abcdef0123456789abcdef")?;

    // 1. A signed JSAPI order. The openid comes from XorPay's openid redirect.
    let order = TopUp {
        id: 14,
        payer: "oXorPayDemoOpenid0000000000".into(),
        amount: "0.01".parse()?,
        title: "XorPay 账户充值".into(),
    };
    let request = order.to_request(&secret)?;
    println!("== 1. signed JSAPI request ==");
    println!(
        "POST https://xorpay.com{}{aid}",
        request.endpoint().path_prefix()
    );
    println!("body: {}", request.body());
    println!("{}\n", order.explain_signature());

    // 2. XorPay answers with the six WeixinJSBridge parameters (the service reads them into
    //    the pending order: `pending.jsapi_params()`); the page hands them over.
    let params: JsapiParams = serde_json::from_str(
        r#"{"appId":"wx2421b1c4370ec43b","timeStamp":"1795784639",
        "nonceStr":"e61463f8efa94090b1f366cccfbbb444","package":"prepay_id=wx27210359demo",
        "signType":"MD5","paySign":"70EA570631E4BB79628FBCA90534C63F"}"#,
    )?;
    println!("== 2. the pay page's script ==");
    let script = BridgeScript::new(&params)
        .result_url("/orders/14")?
        .to_script_tag();
    println!("{script}\n");

    // 3. XorPay posts the notification to notify_url; verify it before believing it.
    let posted = b"aoid=5f2b0a6c9e3d4b1a8c7e6d5f4a3b2c1d&order_id=ORD%2F2026%2F11%2F27%231\
        &pay_price=12.30&pay_time=2026-11-27+21%3A03%3A59&more=&detail=%7B%7D\
        &sign=c032a3beeca71854623548ecac167d4e";
    let paid = Notification::parse(posted)?.verify(&secret)?;
    println!("== 3. verified notification ==");
    println!(
        "order {} paid {} yuan at {} China time (aoid {})",
        paid.order_id(),
        paid.pay_price(),
        paid.raw_pay_time(),
        paid.aoid()
    );

    // A forged one (the amount changed) is refused.
    let forged = std::str::from_utf8(posted)?.replace("pay_price=12.30", "pay_price=0.01");
    match Notification::parse(forged.as_bytes())?.verify(&secret) {
        Ok(_) => return Err("a forged notification was accepted".into()),
        Err(error) => println!("forged copy refused: {error}"),
    }
    Ok(())
}
