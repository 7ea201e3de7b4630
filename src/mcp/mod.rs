//! `skillrun serve`: the skills as an MCP server over stdio (JSON-RPC 2.0, one message per line,
//! nothing but protocol messages on stdout, logs on stderr). The same [`SkillServer`] is served
//! on Streamable HTTP at `/mcp` by [`crate::http`].
//!
//! Built on rmcp: [`server`] is the handler (tools, resources, the skills extension), [`tools`]
//! and [`documents`] translate skills and reports to MCP shapes, and [`transport`] frames stdio
//! in front of rmcp so that every bad line gets a JSON-RPC error and the server stays up.
//! Both lifecycles are served: `initialize` (2025-06-18, 2025-11-25) and the per-request `_meta`
//! of 2026-07-28 with `server/discover`. The server exits when stdin closes.

mod documents;
mod server;
mod tools;
pub mod transport;

use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::service::ServerInitializeError;
use tokio_util::sync::CancellationToken;

pub use server::PROTOCOL_VERSIONS;
pub use server::SkillServer;
pub use tools::{MATCH_TOOL, tool_name};
pub use transport::MAX_LINE_BYTES;

use crate::registry::Registry;

/// Serves the registry's skills as MCP tools on stdin/stdout until stdin closes.
/// `roots`, when not empty, are the only directories a run may write under.
pub fn serve(registry: Registry, roots: std::sync::Arc<crate::locate::Roots>) -> anyhow::Result<()> {
    // One thread runs the protocol (stdin reader, rmcp, stdout writer): a request and its answer
    // cross no worker threads on the way. A dry run (about a millisecond, no writes) runs on it
    // too; a writing run goes to a blocking thread (see `SkillServer::run_skill`), so a run that
    // waits on the disk or a lock never holds up reading the next message (or its cancellation).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let result = runtime.block_on(serve_stdio(registry, roots));
    // A blocking stdin read (when stdin is not a pipe) cannot be cancelled: don't wait for it.
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}

async fn serve_stdio(registry: Registry, roots: std::sync::Arc<crate::locate::Roots>) -> anyhow::Result<()> {
    let (input_closed, output_closed) = (CancellationToken::new(), CancellationToken::new());
    tracing::info!(skills = registry.entries().len(), "serving MCP on stdio");
    let server = SkillServer::new(registry.into(), input_closed.clone(), roots)?.with_dry_runs_inline();
    let (stdin, stdout) = rmcp::transport::stdio_pipes();
    let (transport, writer) = transport::spawn(stdin, stdout, input_closed, output_closed.clone());
    let running = match server.serve_with_ct(transport, output_closed).await {
        Ok(running) => running,
        Err(ServerInitializeError::ConnectionClosed(_) | ServerInitializeError::Cancelled) => {
            tracing::info!("stdin closed before a session began");
            let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
            return Ok(());
        }
        Err(e) => anyhow::bail!("MCP session could not start: {e}"),
    };
    let reason = running.waiting().await?;
    tracing::info!(?reason, "MCP session ended");
    // The transport has dropped its queue; the writer flushes what is left and stops.
    let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
    Ok(())
}
