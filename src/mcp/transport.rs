//! The stdio framing in front of rmcp: one JSON-RPC message per line in, one per line out.
//!
//! rmcp's own line transport drops a line that is not JSON without a word and drops an overlong
//! line silently; MCP clients and JSON-RPC 2.0 expect an answer. So a reader task reads bounded
//! lines, answers what is not a message itself (`-32700` parse error, `-32600` invalid request)
//! and hands good messages to rmcp through a channel; a writer task owns stdout, so nothing but whole protocol lines ever reaches it.

use std::borrow::Cow;
use std::future::Future;

use rmcp::RoleServer;
use rmcp::model::ClientJsonRpcMessage;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The longest line accepted; a longer one is discarded (up to its newline) and answered with
/// `-32600`. Tool inputs are a few hundred bytes; this leaves room for anything reasonable.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// JSON-RPC error codes the framing answers itself.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// The protocol versions whose requests may open a session without `initialize`.
const INLINE_VERSIONS: &[&str] = &["2026-07-28"];

/// rmcp's view of the connection: messages the reader accepted, and a queue to stdout.
pub struct LineTransport {
    incoming: mpsc::Receiver<ClientJsonRpcMessage>,
    outgoing: Option<mpsc::UnboundedSender<Vec<u8>>>,
}

/// Starts the reader and writer tasks on `input` / `output` and returns the transport for rmcp
/// and the writer task (await it after the service stops so every answer is flushed).
/// `input_closed` is cancelled when the input ends (before rmcp hears of it), `output_closed`
/// when the output can no longer be written.
pub fn spawn<R, W>(
    input: R,
    output: W,
    input_closed: CancellationToken,
    output_closed: CancellationToken,
) -> (LineTransport, tokio::task::JoinHandle<()>)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (line_tx, line_rx) = mpsc::unbounded_channel();
    let (message_tx, message_rx) = mpsc::channel(64);
    let reader_out = line_tx.clone();
    tokio::spawn(async move {
        read_messages(BufReader::new(input), &message_tx, reader_out).await;
        input_closed.cancel();
    });
    let writer = tokio::spawn(write_lines(output, line_rx, output_closed));
    (LineTransport { incoming: message_rx, outgoing: Some(line_tx) }, writer)
}

/// The transport's failure: the writer is gone (stdout closed).
#[derive(Debug, thiserror::Error)]
#[error("stdout is closed")]
pub struct Closed;

impl Transport<RoleServer> for LineTransport {
    type Error = Closed;

    fn name() -> Cow<'static, str> {
        "skillrun-stdio".into()
    }

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Closed>> + Send + 'static {
        // Queue now, in call order, so responses and notifications keep the order rmcp chose.
        let result = match (&self.outgoing, serde_json::to_vec(&item)) {
            (Some(out), Ok(mut line)) => {
                line.push(b'\n');
                out.send(line).map_err(|_| Closed)
            }
            (None, _) => Err(Closed),
            (_, Err(e)) => {
                tracing::error!(error = %e, "cannot serialize an outgoing message");
                Ok(())
            }
        };
        std::future::ready(result)
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleServer>>> + Send {
        // `recv` is cancel-safe: rmcp polls this inside `select!`.
        self.incoming.recv()
    }

    async fn close(&mut self) -> Result<(), Closed> {
        self.outgoing = None;
        self.incoming.close();
        Ok(())
    }
}

/// What one input line turned out to be.
#[derive(Debug)]
pub enum Line {
    /// A message for rmcp.
    Message(Box<ClientJsonRpcMessage>),
    /// An error response to send back.
    Answer(Value),
    /// Nothing to do: a blank line, or a notification or response nobody can be told about.
    Skip,
}

async fn read_messages<R: AsyncBufRead + Unpin>(
    mut input: R,
    messages: &mpsc::Sender<ClientJsonRpcMessage>,
    out: mpsc::UnboundedSender<Vec<u8>>,
) {
    let mut buf = Vec::new();
    let mut session_open = false;
    loop {
        let line = match read_bounded_line(&mut input, &mut buf, MAX_LINE_BYTES).await {
            Ok(Some(true)) => classify(&buf, &mut session_open),
            Ok(Some(false)) => {
                tracing::warn!(max = MAX_LINE_BYTES, "refusing an input line longer than the limit");
                Line::Answer(error(
                    Value::Null,
                    INVALID_REQUEST,
                    &format!("Invalid Request: a message may be at most {MAX_LINE_BYTES} bytes"),
                ))
            }
            Ok(None) => break,
            Err(e) => {
                tracing::error!(error = %e, "cannot read stdin");
                break;
            }
        };
        match line {
            Line::Message(message) => {
                if messages.send(*message).await.is_err() {
                    break;
                }
            }
            Line::Answer(value) => {
                let mut bytes = serde_json::to_vec(&value).expect("an error response serializes");
                bytes.push(b'\n');
                if out.send(bytes).is_err() {
                    break;
                }
            }
            Line::Skip => {}
        }
    }
    tracing::debug!("stdin closed");
}

/// Reads one line into `buf` without letting it grow past `max`. `Some(true)`: a line (without
/// its newline); `Some(false)`: a line that was too long and has been skipped; `None`: end of
/// input (a last line without a newline still counts).
async fn read_bounded_line<R: AsyncBufRead + Unpin>(
    input: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    buf.clear();
    let mut too_long = false;
    loop {
        let available = input.fill_buf().await?;
        if available.is_empty() {
            return Ok(if too_long {
                Some(false)
            } else if buf.is_empty() {
                None
            } else {
                Some(true)
            });
        }
        let newline = available.iter().position(|b| *b == b'\n');
        let take = newline.map_or(available.len(), |i| i + 1);
        if !too_long {
            let content = newline.map_or(available, |i| &available[..i]);
            if buf.len() + content.len() > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(content);
            }
        }
        input.consume(take);
        if newline.is_some() {
            return Ok(Some(!too_long));
        }
    }
}

/// Classifies one input line (without its newline). `session_open` is the connection's state:
/// whether a request has opened the session yet; a line that opens it sets it. Public for the
/// fuzz target (`fuzz/fuzz_targets/jsonrpc_line.rs`); the reader task is its only other caller.
pub fn classify(raw: &[u8], session_open: &mut bool) -> Line {
    let text = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Line::Skip;
    }
    // serde_json refuses nesting deeper than 128 levels, so a hostile line cannot blow the stack.
    let value: Value = match serde_json::from_slice(text) {
        Ok(v) => v,
        Err(e) => return Line::Answer(error(Value::Null, PARSE_ERROR, &format!("Parse error: {e}"))),
    };
    let has_id = value.get("id").is_some();
    let id = value.get("id").cloned().filter(|id| id.is_string() || id.is_number());
    let method = value.get("method").and_then(Value::as_str).map(str::to_owned);
    if !value.is_object() || value.get("jsonrpc") != Some(&json!("2.0")) {
        let what = if value.is_array() { "batches are not supported" } else { "expected a JSON-RPC 2.0 object" };
        return Line::Answer(error(id.unwrap_or(Value::Null), INVALID_REQUEST, &format!("Invalid Request: {what}")));
    }
    let opens_session = method.as_deref().is_some_and(|m| {
        m == "initialize" || (m != "server/discover" && m != "ping" && carries_inline_version(&value))
    });
    match serde_json::from_value::<ClientJsonRpcMessage>(value) {
        Ok(message) => {
            let is_request = matches!(message, ClientJsonRpcMessage::Request(_));
            if !*session_open && !is_request {
                // rmcp ends the connection on a notification or response before the session
                // has begun; there is nothing it could mean yet, so drop it here.
                tracing::debug!(?method, "ignoring a notification or response before the session began");
                return Line::Skip;
            }
            *session_open |= opens_session;
            Line::Message(Box::new(message))
        }
        // A notification nobody can be told about; anything else is answered.
        Err(_) if !has_id && method.is_some() => Line::Skip,
        Err(e) => Line::Answer(error(id.unwrap_or(Value::Null), INVALID_REQUEST, &format!("Invalid Request: {e}"))),
    }
}

/// Whether a request names a session-less protocol version with the client context it needs.
fn carries_inline_version(value: &Value) -> bool {
    let meta = &value["params"]["_meta"];
    let version = meta["io.modelcontextprotocol/protocolVersion"].as_str();
    version.is_some_and(|v| INLINE_VERSIONS.contains(&v))
        && meta["io.modelcontextprotocol/clientCapabilities"].is_object()
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// Owns stdout: writes queued lines and flushes whenever the queue runs dry.
async fn write_lines<W: AsyncWrite + Unpin>(
    mut output: W,
    mut lines: mpsc::UnboundedReceiver<Vec<u8>>,
    closed: CancellationToken,
) {
    while let Some(line) = lines.recv().await {
        let mut result = output.write_all(&line).await;
        while result.is_ok() {
            match lines.try_recv() {
                Ok(next) => result = output.write_all(&next).await,
                Err(_) => break,
            }
        }
        if let Err(e) = result.and(output.flush().await) {
            tracing::error!(error = %e, "cannot write to stdout; stopping");
            closed.cancel();
            return;
        }
    }
    let _ = output.flush().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(raw: &str) -> Value {
        match classify(raw.as_bytes(), &mut true) {
            Line::Answer(v) => v,
            other => panic!("expected an answer, got {other:?}"),
        }
    }

    #[test]
    fn garbage_is_a_parse_error_with_a_null_id() {
        let v = answer("{not json");
        assert_eq!((v["id"].clone(), v["error"]["code"].clone()), (Value::Null, json!(-32700)));
    }

    #[test]
    fn deep_nesting_is_refused_as_a_parse_error() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(answer(&deep)["error"]["code"], -32700);
    }

    #[test]
    fn a_batch_and_a_bare_value_are_invalid_requests() {
        assert_eq!(answer("[]")["error"]["code"], -32600);
        assert_eq!(answer("42")["error"]["code"], -32600);
        assert_eq!(answer(r#"{"id": 3, "method": "ping"}"#)["id"], 3);
    }

    #[test]
    fn a_request_with_an_invalid_id_is_answered_with_a_null_id() {
        let v = answer(r#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#);
        assert_eq!((v["id"].clone(), v["error"]["code"].clone()), (Value::Null, json!(-32600)));
    }

    #[test]
    fn notifications_before_the_session_are_dropped_and_initialize_opens_it() {
        let mut open = false;
        assert!(matches!(
            classify(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, &mut open),
            Line::Skip
        ));
        let init = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
        assert!(matches!(classify(init, &mut open), Line::Message(_)));
        assert!(open);
    }

    #[tokio::test]
    async fn long_lines_are_skipped_to_their_newline() {
        let input = format!("{}\nshort\nlast", "x".repeat(100));
        let mut reader = BufReader::with_capacity(16, input.as_bytes());
        let mut buf = Vec::new();
        assert_eq!(read_bounded_line(&mut reader, &mut buf, 50).await.unwrap(), Some(false));
        assert_eq!(read_bounded_line(&mut reader, &mut buf, 50).await.unwrap(), Some(true));
        assert_eq!(buf, b"short");
        assert_eq!(read_bounded_line(&mut reader, &mut buf, 50).await.unwrap(), Some(true));
        assert_eq!(buf, b"last");
        assert_eq!(read_bounded_line(&mut reader, &mut buf, 50).await.unwrap(), None);
    }
}
