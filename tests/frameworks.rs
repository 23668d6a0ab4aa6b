//! The notify route in other web frameworks than axum: actix-web 4 (`Payments::actix_resource`,
//! feature `actix-web`) on a real actix server, and a plain hyper 1 server calling the
//! framework-neutral `Payments::answer`. In each, the sandbox pays an order and delivers its
//! notification twice (the second an identical copy): the order is paid once, fulfilled
//! once, both copies are acknowledged; a forged notification is refused (400), and a body
//! longer than any notification too (413).

mod support;

use std::convert::Infallible;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use support::SECRET;
use support::world::Counting;
use xorpay::Notification;
use xorpay::prelude::*;
use xorpay_sandbox::{DeliveryState, NotificationKind, OrderFault, OrderState, Sandbox};

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
#[xorpay(kind = native, notify_url = from_client)]
struct Tea {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

/// A free loopback address, and the notify URL on it.
fn address() -> (std::net::SocketAddr, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (addr, format!("http://{addr}/xorpay/notify"))
}

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .secret(SECRET)
        .retry_unit(Duration::from_millis(20))
        .build()
        .start()
        .await
        .unwrap()
}

fn payments(sandbox: &Sandbox, notify_url: &str, hook: &Counting) -> Payments<Tea> {
    Payments::builder()
        .aid(sandbox.aid())
        .secret(SECRET)
        .notify_url(notify_url)
        .base_url(sandbox.base_url())
        .store(SqliteStore::in_memory().unwrap())
        .hook(hook.clone())
        .sweep_every(Duration::from_secs(3600))
        .build()
        .unwrap()
}

/// Checks out an order, has XorPay deliver its notification twice, and checks what the
/// framework's route did with each copy; then posts a forgery to `notify_url`.
async fn an_order_is_paid_once_through(
    sandbox: &Sandbox,
    payments: &Payments<Tea>,
    hook: &Counting,
    notify_url: &str,
) {
    let tea = Tea {
        id: "fw-1".into(),
        title: "乌龙茶".into(),
        total: "3.50".parse().unwrap(),
    };
    let Checkout::Pending(pending) = payments.checkout(tea).await.unwrap() else {
        panic!("a native order is pending once XorPay took it")
    };
    let aoid = pending.aoid().unwrap().as_str().to_owned();
    sandbox
        .set_order_fault(&aoid, OrderFault::Duplicate)
        .unwrap();
    sandbox.pay(&aoid).await.unwrap();
    let order = sandbox
        .wait_for(&aoid, Duration::from_secs(10), |o| {
            o.delivery == DeliveryState::Acknowledged && o.deliveries.len() >= 2
        })
        .await
        .unwrap();
    assert_eq!(order.state, OrderState::Success, "{order:?}");
    let answers: Vec<_> = order
        .deliveries
        .iter()
        .map(|d| (d.kind, d.status))
        .collect();
    assert_eq!(
        answers,
        [
            (NotificationKind::Genuine, Some(200)),
            (NotificationKind::Duplicate, Some(200))
        ]
    );
    support::eventually("the hook ran", async || hook.runs("fw-1") == 1).await;
    assert!(matches!(
        payments.order("fw-1").await.unwrap(),
        Some(StoredOrder::Paid(_))
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hook.runs("fw-1"), 1, "the copy fulfilled the order again");

    // A notification signed with another secret is refused, and changes nothing.
    let forged =
        xorpay_testkit::notification(&aoid, "fw-1", "3.50", "another-secret-another-secret-00");
    let refused = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(notify_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.text().await.unwrap(), "refused");

    // A body longer than any notification is refused before it is read whole.
    let huge = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(notify_url)
        .body(vec![b'a'; Notification::MAX_BODY + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_web_serves_the_notify_route() {
    let sandbox = sandbox().await;
    let (addr, notify_url) = address();
    let hook = Counting::default();
    let payments = payments(&sandbox, &notify_url, &hook);
    let served = payments.clone();
    let server =
        actix_web::HttpServer::new(move || actix_web::App::new().service(served.actix_resource()))
            .workers(1)
            .disable_signals()
            .bind(addr)
            .unwrap()
            .run();
    let handle = server.handle();
    // actix runs on its own system, in a thread of its own.
    let thread = std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
    an_order_is_paid_once_through(&sandbox, &payments, &hook, &notify_url).await;
    handle.stop(true).await;
    thread.join().unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hyper_server_serves_the_notify_route_with_the_framework_neutral_call() {
    use http_body_util::{BodyExt, Full, Limited};
    use hyper::body::{Bytes, Incoming};
    use hyper::{Request, Response, StatusCode};

    let sandbox = sandbox().await;
    let (addr, notify_url) = address();
    let hook = Counting::default();
    let payments = payments(&sandbox, &notify_url, &hook);
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let served = payments.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let payments = served.clone();
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let payments = payments.clone();
                async move {
                    let limited = Limited::new(request.into_body(), Notification::MAX_BODY);
                    let answer = match limited.collect().await {
                        Ok(body) => payments.answer(&body.to_bytes()).await,
                        Err(_) => {
                            return Ok::<_, Infallible>(
                                Response::builder()
                                    .status(StatusCode::PAYLOAD_TOO_LARGE)
                                    .body(Full::new(Bytes::from_static(b"refused")))
                                    .unwrap(),
                            );
                        }
                    };
                    Ok(Response::builder()
                        .status(answer.status())
                        .body(Full::new(Bytes::from_static(answer.body().as_bytes())))
                        .unwrap())
                }
            });
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    an_order_is_paid_once_through(&sandbox, &payments, &hook, &notify_url).await;
}
