//! MCP server over stdio (placeholder until the server lands).
use crate::registry::Registry;

/// Serves the registry's skills as MCP tools on stdin/stdout until stdin closes.
pub fn serve(_registry: Registry) -> anyhow::Result<()> {
    anyhow::bail!("the MCP server is not built yet")
}
