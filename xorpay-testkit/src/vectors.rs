//! The signature vectors of `data/signatures.json` (see `data/README.md`): MD5 over the
//! plain values of each formula, app secret last, computed outside this project.

use serde::{Deserialize, Serialize};

/// Every vector, by formula.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Vectors {
    /// `pay`, as the vector gives it.
    pub pay: Vec<PayVector>,
    /// `barcode`, as the vector gives it.
    pub barcode: Vec<BarcodeVector>,
    /// `query2`, as the vector gives it.
    pub query2: Vec<Query2Vector>,
    /// `refund`, as the vector gives it.
    pub refund: Vec<RefundVector>,
    /// `notify`, as the vector gives it.
    pub notify: Vec<NotifyVector>,
}

/// A vector of the pay formula (`pay`, `cashier`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct PayVector {
    /// `name`, as the vector gives it.
    pub name: String,
    /// `pay_type`, as the vector gives it.
    pub pay_type: String,
    /// `price`, as the vector gives it.
    pub price: String,
    /// `order_id`, as the vector gives it.
    pub order_id: String,
    /// `notify_url`, as the vector gives it.
    pub notify_url: String,
    /// `secret`, as the vector gives it.
    pub secret: String,
    /// `sign`, as the vector gives it.
    pub sign: String,
    /// `endpoint`, as the vector gives it.
    pub endpoint: String,
}

/// A vector of the barcode formula.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct BarcodeVector {
    /// `name`, as the vector gives it.
    pub name: String,
    /// `pay_type`, as the vector gives it.
    pub pay_type: String,
    /// `price`, as the vector gives it.
    pub price: String,
    /// `order_id`, as the vector gives it.
    pub order_id: String,
    /// `notify_url`, as the vector gives it.
    pub notify_url: String,
    /// `barcode`, as the vector gives it.
    pub barcode: String,
    /// `secret`, as the vector gives it.
    pub secret: String,
    /// `sign`, as the vector gives it.
    pub sign: String,
}

/// A vector of the `query2` formula.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Query2Vector {
    /// `order_id`, as the vector gives it.
    pub order_id: String,
    /// `secret`, as the vector gives it.
    pub secret: String,
    /// `sign`, as the vector gives it.
    pub sign: String,
}

/// A vector of the refund formula.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct RefundVector {
    /// `price`, as the vector gives it.
    pub price: String,
    /// `secret`, as the vector gives it.
    pub secret: String,
    /// `sign`, as the vector gives it.
    pub sign: String,
}

/// A vector of the notify formula.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[non_exhaustive]
pub struct NotifyVector {
    /// `aoid`, as the vector gives it.
    pub aoid: String,
    /// `order_id`, as the vector gives it.
    pub order_id: String,
    /// `pay_price`, as the vector gives it.
    pub pay_price: String,
    /// `pay_time`, as the vector gives it.
    pub pay_time: String,
    /// `secret`, as the vector gives it.
    pub secret: String,
    /// `sign`, as the vector gives it.
    pub sign: String,
}

/// Reads the vectors.
pub fn load() -> Vectors {
    serde_json::from_str(include_str!("../data/signatures.json")).expect("the vectors parse")
}
