// The hook is called from the service's background work and must not block it: a plain
// `fn on` is refused, and the message points at its return type.
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

struct Ship;

impl Hook<Coffee> for Ship {
    fn on(&self, event: Event<'_, Coffee>) -> Result<(), HookError> {
        if let Event::Paid(order) = event {
            println!("shipped {}", order.order_id());
        }
        Ok(())
    }
}

fn main() {}
