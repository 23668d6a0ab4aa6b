//! What both signing benchmarks measure: one realistic order (the fourth shared pay vector),
//! signed three ways; and the interleaved timing the ratio benchmarks share.

use std::fmt::Write as _;
use std::time::Instant;

use md5::{Digest, Md5};
use xorpay::prelude::*;
use xorpay::{AppSecret, Price};

/// The fourth pay vector, as a merchant's struct.
#[derive(XorPayOrder)]
#[xorpay(kind = alipay, notify_url = "https://m.example.cn/api/xorpay/notify")]
pub(crate) struct VipOrder {
    #[xorpay(name)]
    pub(crate) name: String,
    #[xorpay(price)]
    pub(crate) price: Price,
    #[xorpay(order_id)]
    pub(crate) order_id: String,
}

pub(crate) const PAY_TYPE: &str = "alipay";
pub(crate) const NOTIFY_URL: &str = "https://m.example.cn/api/xorpay/notify";
pub(crate) const SECRET: &str = "mock_secret";
/// From the shared vectors, computed outside the project.
pub(crate) const EXPECTED: &str = "4c85a74e0621bd5b1c996650ae549573";

pub(crate) struct Setup {
    pub(crate) order: VipOrder,
    pub(crate) secret: AppSecret,
    /// The same bytes the signature covers, already concatenated, secret included.
    pub(crate) concatenated: String,
}

pub(crate) fn setup() -> Setup {
    let order = VipOrder {
        name: "会员 VIP 月卡 🎉".to_owned(),
        price: "19999.99".parse().unwrap(),
        order_id: "vip-20261127-0001".to_owned(),
    };
    let secret = AppSecret::new(SECRET).unwrap();
    let concatenated = format!(
        "{}{PAY_TYPE}{}{}{NOTIFY_URL}{SECRET}",
        order.name, order.price, order.order_id
    );
    // All three ways compute the same signature; check before measuring anything.
    assert_eq!(order.signature(&secret).unwrap().as_str(), EXPECTED);
    assert_eq!(naive(&order), EXPECTED);
    assert_eq!(hex(&Md5::digest(concatenated.as_bytes()).into()), EXPECTED);
    Setup {
        order,
        secret,
        concatenated,
    }
}

/// The floor: MD5 of the bytes, already concatenated.
pub(crate) fn floor(concatenated: &str) -> [u8; 16] {
    Md5::digest(concatenated.as_bytes()).into()
}

/// The way most SDKs sign: build the string, hash it, hex it.
pub(crate) fn naive(order: &VipOrder) -> String {
    let text = format!(
        "{}{}{}{}{}{}",
        order.name, PAY_TYPE, order.price, order.order_id, NOTIFY_URL, SECRET
    );
    hex(&Md5::digest(text.as_bytes()).into())
}

fn hex(digest: &[u8; 16]) -> String {
    let mut out = String::with_capacity(32);
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Rounds of an interleaved measurement: each times a batch of every variant in turn.
pub(crate) const ROUNDS: usize = 300;
/// Calls per batch.
pub(crate) const BATCH: u32 = 2_000;

/// Nanoseconds per call, over one batch.
// Timing ratios are measurements, not money: the workspace ban on float arithmetic is for money.
#[allow(clippy::float_arithmetic)]
pub(crate) fn time_batch(mut work: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..BATCH {
        work();
    }
    start.elapsed().as_nanos() as f64 / f64::from(BATCH)
}

/// The median of the rounds.
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
