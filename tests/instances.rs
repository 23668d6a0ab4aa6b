//! Two shop processes on one database (a SQLite file, PostgreSQL or MySQL), behind one
//! loopback address (a small proxy here splits requests between them, as a load balancer
//! would): 200 orders, each notified with 5 identical copies at once (1,000 deliveries), one
//! instance killed (SIGKILL) mid-run and started again. Every order ends paid once and
//! fulfilled once, and XorPay's books and the database agree on every amount.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use support::SECRET;
use support::shop_process::{free_port, start_shop, stored};
use xorpay_sandbox::{DeliveryState, NotificationKind, OrderFault, OrderState, Sandbox};

/// Splits requests between backends in turn, passing on to the next when one refuses the
/// connection; a request cut short by a backend is answered 502.
struct Proxy {
    url: String,
}

impl Proxy {
    async fn start(backends: Vec<String>) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        let next = Arc::new(AtomicUsize::new(0));
        let backends = Arc::new(backends);
        let app = axum::Router::new().fallback(move |request: Request<Body>| {
            let (client, next, backends) =
                (client.clone(), Arc::clone(&next), Arc::clone(&backends));
            async move { forward(&client, &next, &backends, request).await }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Proxy { url }
    }
}

async fn forward(
    client: &reqwest::Client,
    next: &AtomicUsize,
    backends: &[String],
    request: Request<Body>,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let first = next.fetch_add(1, Ordering::Relaxed);
    for turn in 0..backends.len() {
        let backend = &backends[(first + turn) % backends.len()];
        let mut sent = client.request(parts.method.clone(), format!("{backend}{path}"));
        for (name, value) in &parts.headers {
            if name != "host" {
                sent = sent.header(name, value);
            }
        }
        match sent.body(body.clone()).send().await {
            Ok(answer) => return pass_back(answer).await,
            Err(error) if error.is_connect() => continue,
            Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
        }
    }
    StatusCode::BAD_GATEWAY.into_response()
}

async fn pass_back(answer: reqwest::Response) -> Response {
    let status = answer.status();
    let mut headers = HeaderMap::new();
    for (name, value) in answer.headers() {
        if name == "location" || name == "content-type" {
            headers.insert(name.clone(), value.clone());
        }
    }
    let body: Bytes = answer.bytes().await.unwrap_or_default();
    (status, headers, body).into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_instances_a_kill_and_a_thousand_deliveries_pay_and_fulfil_each_order_once() {
    let dir = support::TempDir::new("instances");
    let database = format!("sqlite://{}", dir.path().join("shop.sqlite").display());
    two_instances_a_kill_and_a_thousand_deliveries(&database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_instances_a_kill_and_a_thousand_deliveries_pay_and_fulfil_each_order_once() {
    if let Some(database) = support::postgres::fresh_schema_url().await {
        two_instances_a_kill_and_a_thousand_deliveries(&database).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_two_instances_a_kill_and_a_thousand_deliveries_pay_and_fulfil_each_order_once() {
    if let Some(database) = support::mysql::fresh_database_url().await {
        two_instances_a_kill_and_a_thousand_deliveries(&database).await;
    }
}

async fn two_instances_a_kill_and_a_thousand_deliveries(database: &str) {
    let database = database.to_owned();
    let sandbox = Sandbox::builder()
        .secret(SECRET)
        .retry_unit(Duration::from_millis(50))
        .build()
        .start()
        .await
        .unwrap();
    let ports = [free_port(), free_port()];
    let proxy = Proxy::start(
        ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect(),
    )
    .await;
    let mut first = start_shop(ports[0], &proxy.url, &database, &sandbox).await;
    let _second = start_shop(ports[1], &proxy.url, &database, &sandbox).await;

    // 200 orders, bought through the one address, each to be notified with 5 copies at once.
    let buyer = reqwest::Client::builder().no_proxy().build().unwrap();
    let bought = futures_bounded(200, 16, |_| {
        let (buyer, url) = (buyer.clone(), proxy.url.clone());
        async move {
            let landed = buyer.get(format!("{url}/buy/cookie")).send().await.unwrap();
            assert_eq!(landed.status(), 200, "{}", landed.url());
            let path = landed.url().path().to_owned();
            path.trim_start_matches("/orders/")
                .trim_end_matches("/pay")
                .to_owned()
        }
    })
    .await;
    let mut aoids = Vec::new();
    for id in &bought {
        let aoid = sandbox.order_by_order_id(id).unwrap().aoid;
        sandbox
            .set_order_fault(&aoid, OrderFault::Concurrent { copies: 5 })
            .unwrap();
        aoids.push(aoid);
    }

    // Every payer pays at once; once some 40 orders are acknowledged, one instance is killed
    // outright (deliveries still in flight), then started again.
    let paid = futures_join(aoids.iter().map(|aoid| sandbox.pay(aoid)).collect()).await;
    assert!(paid.iter().all(Result::is_ok));
    let acknowledged = || {
        sandbox
            .orders()
            .iter()
            .filter(|o| o.delivery == DeliveryState::Acknowledged)
            .count()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while acknowledged() < 40 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.start_kill().unwrap();
    let at_kill = acknowledged();
    first.wait().await.unwrap();
    println!("killed one instance with {at_kill} of 200 orders acknowledged");
    assert!(at_kill < 200, "the kill came after every delivery");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _first = start_shop(ports[0], &proxy.url, &database, &sandbox).await;

    for aoid in &aoids {
        let order = sandbox
            .wait_for(aoid, Duration::from_secs(60), |o| {
                o.delivery == DeliveryState::Acknowledged
            })
            .await
            .unwrap();
        assert_eq!(order.state, OrderState::Success, "{order:?}");
    }
    let copies: Vec<_> = aoids
        .iter()
        .flat_map(|aoid| sandbox.order(aoid).unwrap().deliveries)
        .filter(|d| d.kind == NotificationKind::Concurrent)
        .collect();
    assert!(copies.len() >= 1000, "{} copies sent", copies.len());
    let acknowledged = copies.iter().filter(|d| d.status == Some(200)).count();
    println!(
        "{} copies sent, {acknowledged} answered 200 (a copy cut short by the kill is not)",
        copies.len()
    );

    // The database: every order paid once, at XorPay's amount; each fulfilled, recorded once.
    let mut twice = 0;
    for (id, aoid) in bought.iter().zip(&aoids) {
        let xorpay = sandbox.order(aoid).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let (state, price, fulfilled, runs) = loop {
            let got = stored(&database, id).await;
            if got.2 || tokio::time::Instant::now() >= deadline {
                break got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(state, "paid", "{id}");
        assert_eq!(u64::try_from(price).unwrap(), xorpay.price_fen, "{id}");
        assert!(fulfilled, "{id} was never recorded fulfilled");
        assert!((1..=2).contains(&runs), "{id}: the hook ran {runs} times");
        if runs == 2 {
            twice += 1;
        }
    }
    // Each instance hands one order at a time to the hook: only the killed instance's order,
    // if it was between hook and record, can have been delivered a second time.
    println!("orders delivered twice (killed between hook and record): {twice}");
    assert!(twice <= 1, "{twice} orders delivered twice");
}

/// Runs `count` tasks made by `task`, at most `width` at a time; their results in order.
async fn futures_bounded<T, F>(count: usize, width: usize, task: impl Fn(usize) -> F) -> Vec<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
{
    let gate = Arc::new(tokio::sync::Semaphore::new(width));
    let mut handles = Vec::with_capacity(count);
    for n in 0..count {
        let gate = Arc::clone(&gate);
        let future = task(n);
        handles.push(tokio::spawn(async move {
            let _turn = gate.acquire().await.unwrap();
            future.await
        }));
    }
    let mut results = Vec::with_capacity(count);
    for handle in handles {
        results.push(handle.await.unwrap());
    }
    results
}

/// Awaits every future, concurrently.
async fn futures_join<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, result) in pinned.iter_mut().zip(results.iter_mut()) {
            if result.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => *result = Some(output),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.into_iter().map(Option::unwrap).collect()
}
