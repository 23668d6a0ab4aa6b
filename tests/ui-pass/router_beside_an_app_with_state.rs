// The service's router needs no application state, so it merges into an application whose
// router has its own: the opaque "the trait `Handler<_, _>` is not satisfied" of a handler
// whose state lacks the secret cannot arise.
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

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

async fn hello(axum::extract::State(state): axum::extract::State<AppState>) -> &'static str {
    state.greeting
}

fn app(payments: &Payments<Coffee>) -> axum::Router {
    axum::Router::new()
        .route("/", axum::routing::get(hello))
        .with_state(AppState { greeting: "你好" })
        .merge(payments.router())
}

fn main() {
    let _ = app;
}
