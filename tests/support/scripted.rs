//! A stand-in for XorPay scripted by the test, for answers the sandbox never gives.

use std::sync::Arc;

use axum::http::StatusCode;

/// A stand-in for XorPay that answers every request to a path starting with `prefix` with
/// `status` and `body`, for answers the sandbox never gives (statuses XorPay may add, JSON
/// under an error status). Returns its base URL.
pub(crate) async fn scripted_xorpay(answers: Vec<(&'static str, u16, &'static str)>) -> String {
    let answers = Arc::new(answers);
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let answers = Arc::clone(&answers);
        async move {
            let path = uri.path().to_owned();
            match answers
                .iter()
                .find(|(prefix, _, _)| path.starts_with(prefix))
            {
                Some((_, status, body)) => (
                    StatusCode::from_u16(*status).unwrap(),
                    [("content-type", "application/json")],
                    *body,
                ),
                None => (
                    StatusCode::NOT_FOUND,
                    [("content-type", "text/plain")],
                    "not scripted",
                ),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}
