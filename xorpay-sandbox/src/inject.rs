//! The middleware in front of each of XorPay's routes: applies the route's fault, if one is
//! in force (see [`crate::faults`] for what each looks like), and loses the answers a magic
//! amount asks to lose (see [`crate::magic`]).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::faults::{ConnectionKill, Route, RouteFault};
use crate::magic::LoseAnswer;
use crate::state::Shared;

/// nginx's error page for a failed upstream, byte for byte what a gateway sends.
const BAD_GATEWAY_PAGE: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// The middleware in front of each XorPay route: applies the route's fault, if any.
pub(crate) async fn apply(
    State((shared, route)): State<(Arc<Shared>, Route)>,
    request: Request,
    next: Next,
) -> Response {
    let fault = shared.route_faults().take(route);
    match fault {
        None => {
            // A magic amount may ask for the answer to be lost after the route acted.
            let kill = request.extensions().get::<ConnectionKill>().cloned();
            let response = next.run(request).await;
            if response.extensions().get::<LoseAnswer>().is_some() {
                drop(response);
                return drop_connection(kill).await;
            }
            response
        }
        Some(RouteFault::Http500) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Internal Server Error",
        )
            .into_response(),
        Some(RouteFault::HtmlError) => (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html")],
            BAD_GATEWAY_PAGE,
        )
            .into_response(),
        Some(RouteFault::Delay { ms }) => {
            // Its own task: a client that hangs up does not stop XorPay from acting late.
            let late = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                next.run(request).await
            });
            late.await
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        Some(RouteFault::DropConnection) => {
            let kill = request.extensions().get::<ConnectionKill>().cloned();
            drop_connection(kill).await
        }
        Some(RouteFault::AnswerLost) => {
            let kill = request.extensions().get::<ConnectionKill>().cloned();
            // The route's effect is committed when it has answered; the answer is dropped.
            drop(next.run(request).await);
            drop_connection(kill).await
        }
        Some(RouteFault::AnswerLate { ms }) => {
            let response = next.run(request).await;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            response
        }
    }
}

/// Closes the request's connection without a response.
async fn drop_connection(kill: Option<ConnectionKill>) -> Response {
    match kill {
        Some(kill) => {
            kill.0.notify_one();
            // The connection task drops this future together with the connection.
            std::future::pending().await
        }
        // Only reachable if the router were served by something else than the sandbox's
        // accept loop; answer like a dying server rather than hang.
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
