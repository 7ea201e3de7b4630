//! The MCP stdio framing's per-line classification (`skillrun::mcp::transport::classify`) on
//! any bytes, split into lines and fed in order through one connection state.
//!
//! Invariants: no panic; each line is exactly one of forwarded to rmcp, answered, or skipped;
//! an answer is a JSON-RPC 2.0 error response (`-32700` for a line that is not JSON, `-32600`
//! otherwise) that serializes to one line and echoes a string or number `id`; a line that is not
//! JSON is always answered, never forwarded; a request (string or number `id` and a `method`)
//! is never skipped; only a JSON-RPC 2.0 object is forwarded, and only a request before the
//! session is open.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use skillrun::mcp::transport::{Line, classify};

fuzz_target!(|data: &[u8]| {
    let mut session_open = false;
    for raw in data.split(|b| *b == b'\n') {
        let was_open = session_open;
        let text = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let parsed: Option<Value> = serde_json::from_slice(text).ok();
        let blank = text.iter().all(u8::is_ascii_whitespace);
        let is_request = parsed.as_ref().is_some_and(|v| {
            v.get("method").is_some_and(Value::is_string)
                && v.get("id").is_some_and(|id| id.is_string() || id.is_number())
        });
        match classify(raw, &mut session_open) {
            Line::Answer(answer) => {
                assert!(!blank, "a blank line is answered: {raw:?}");
                let line = serde_json::to_string(&answer).expect("an answer serializes");
                assert!(!line.contains('\n'), "an answer spans lines: {line}");
                let object = answer.as_object().expect("an answer is an object");
                assert_eq!(object.len(), 3, "{line}");
                assert_eq!(answer["jsonrpc"], "2.0", "{line}");
                let id = &answer["id"];
                assert!(id.is_null() || id.is_string() || id.is_number(), "{line}");
                let code = answer["error"]["code"].as_i64().expect("an integer error code");
                assert!(answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{line}");
                assert_eq!(answer["error"].as_object().map(|e| e.len()), Some(2), "{line}");
                match &parsed {
                    None => assert_eq!(code, -32700, "a line that is not JSON: {line}"),
                    Some(value) => {
                        assert_eq!(code, -32600, "{line}");
                        let given = value.get("id").filter(|id| id.is_string() || id.is_number());
                        assert_eq!(Some(id).filter(|id| !id.is_null()), given, "the id is not echoed: {line}");
                    }
                }
                assert_eq!(session_open, was_open, "an answered line changes the session");
            }
            Line::Message(message) => {
                let value = parsed.expect("only JSON is forwarded");
                assert!(value.is_object() && value["jsonrpc"] == "2.0", "forwarded: {value}");
                assert!(was_open || is_request, "a non-request is forwarded before the session: {value}");
                let again = serde_json::to_value(&*message).expect("a forwarded message serializes");
                assert_eq!(again["jsonrpc"], "2.0");
            }
            Line::Skip => {
                assert!(blank || parsed.is_some(), "a line that is not JSON is skipped: {raw:?}");
                assert!(!is_request, "a request is skipped: {}", String::from_utf8_lossy(raw));
                assert_eq!(session_open, was_open, "a skipped line changes the session");
            }
        }
    }
});
