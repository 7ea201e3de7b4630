//! Accepting connections so that slow or greedy clients cannot hold the server: hyper's HTTP/1
//! server with a header read timeout (a client that has not sent its whole header in time is
//! disconnected, idle keep-alive connections included), a bound on open connections (past it a
//! new connection is closed at once), and [`read_body`], which reads each request body whole,
//! bounded in size and in time, before any handler sees it. `axum::serve` offers none of these
//! knobs, hence hyper-util's connection builder here.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::{MAX_BODY_BYTES, MAX_MCP_BODY_BYTES, error};

/// Connections open at once; more are closed as soon as they are accepted.
pub const MAX_CONNECTIONS: usize = 1024;

/// Serves `app` on `listener` until `shutdown` completes, then lets open requests finish (for a
/// few seconds).
pub async fn serve(listener: TcpListener, app: Router, read_timeout: Duration, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let open = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(read_timeout).keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max = MAX_CONNECTIONS, "too many open connections; closing a new one");
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await.is_err() {
        tracing::warn!("some connections were still open at shutdown");
    }
}

/// Reads the request body whole before the handler runs: at most [`MAX_BODY_BYTES`]
/// ([`MAX_MCP_BODY_BYTES`] on `/mcp`), within `timeout`. Too big: 413; too slow: 408, and the
/// connection is closed.
pub async fn read_body(request: Request, next: Next, timeout: Duration) -> Response {
    let max = if request.uri().path().starts_with("/mcp") { MAX_MCP_BODY_BYTES } else { MAX_BODY_BYTES };
    let (parts, body) = request.into_parts();
    let bytes = match tokio::time::timeout(timeout, axum::body::to_bytes(body, max)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            let message = format!("the body could not be read whole: it may be at most {max} bytes");
            return closing(error(StatusCode::PAYLOAD_TOO_LARGE, message));
        }
        Err(_) => {
            tracing::warn!(path = %parts.uri.path(), "a client sent its body too slowly; dropping it");
            return closing(error(StatusCode::REQUEST_TIMEOUT, "the request body did not arrive in time"));
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// The rest of the request was not read: close the connection rather than leave it for reuse.
pub fn closing(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    response
}
