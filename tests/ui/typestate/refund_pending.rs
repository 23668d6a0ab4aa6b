// Only a paid order can be refunded: the service's refund takes an `Order<_, Paid>`, and a
// pending one is refused with how to get the paid one.
use xorpay::prelude::*;

#[derive(XorPayOrder, serde::Serialize, serde::Deserialize)]
#[xorpay(kind = native, notify_url = from_client)]
struct Coffee {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    name: String,
    #[xorpay(price)]
    price: Price,
}

async fn refund(payments: &Payments<Coffee>, pending: &Order<Coffee, Pending>) {
    let amount: Price = "1.00".parse().unwrap();
    let _ = payments.refund(pending, amount, "refund-1").await;
}

fn main() {
    let _ = refund;
}
