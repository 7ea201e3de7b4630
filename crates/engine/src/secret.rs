//! Secrets: the [`Secret`] type, which never prints what it holds, and the one redactor
//! ([`redact`]) that takes secrets out of any text skillrun shows or writes — reports, the answers
//! file, chat replies, logs. It works by structure, not by value: it redacts the password of a
//! URL's userinfo, the value of a URL query parameter whose name names a secret, and the value of
//! a `NAME=value` / `name: value` assignment (a dotenv line, a log field, a YAML or JSON key) whose
//! name names one ([`is_secret_name`]). Text that merely equals a password somewhere else (a path,
//! a database kind) is left alone, so a password such as `postgres` or `app` garbles nothing and
//! shows nowhere as a password.

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

/// What a redacted secret reads as.
pub const REDACTED: &str = "***";

/// A secret value (a password, a URL holding one). `Debug` and `Display` print [`REDACTED`];
/// the value is only reached through [`Secret::expose`], at the one place that writes it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The value itself: for writing a secret file, never for a message or a log.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Whether a query parameter, dotenv key or field named `name` holds a secret. The name is
/// lower-cased and `_ - .` and spaces are dropped; it names a secret when it contains `password`,
/// `passwd`, `passphrase`, `secret`, `token`, `credential`, `signature` or `authorization`, ends
/// in `pwd`, `pass` or `key` (`api_key`, `private_key`), or is `sig` — unless its value is a file:
/// a name ending in `file`, `path` or `dir` (`passfile`, `private_key_file`), or libpq's and
/// MySQL's `sslkey` / `ssl_key` and `tls_key`, which name the key's file (its passphrase,
/// `sslpassword`, is a secret).
pub fn is_secret_name(name: &str) -> bool {
    let compact: String =
        name.chars().filter(|c| !matches!(c, '_' | '-' | '.' | ' ')).flat_map(char::to_lowercase).collect();
    let a_file = ["file", "path", "dir"].iter().any(|end| compact.ends_with(end))
        || ["sslkey", "tlskey"].contains(&compact.as_str());
    if a_file {
        return false;
    }
    ["password", "passwd", "passphrase", "secret", "token", "credential", "signature", "authorization"]
        .iter()
        .any(|word| compact.contains(word))
        || ["pwd", "pass", "key"].iter().any(|end| compact.ends_with(end))
        || compact == "sig"
}

/// `text` with every secret it holds by structure replaced by [`REDACTED`]:
/// - in each URL (`scheme://...`), the password of the userinfo — from the first `:` to the `@`
///   that ends it, read both as SQLAlchemy does (the first `@` after the `:`, even past `/ ? #`)
///   and as RFC 3986 does (the last `@` before `/ ? #`), whichever is later; SQLAlchemy's may
///   run past a space or a quote up to the end of the line (a raw space in a password) — and,
///   up to a space, the closing quote (when the URL opens after one) or the end of the line, the
///   value of each query parameter whose (percent-decoded) name [`is_secret_name`];
/// - outside URLs, the value of each `NAME=value`, `NAME: value` or `"name": value` whose name
///   [`is_secret_name`]: a quoted value to its closing quote; an unquoted one to the end of the
///   line when the name starts the line (a dotenv or YAML line, also in a diff), else to the next
///   space, `&`, `,` or `;` (a log field).
///
/// Where a text is ambiguous it redacts more, never less.
pub fn redact(text: &str) -> Cow<'_, str> {
    if !text.contains("://") && !text.contains('=') && !text.contains(':') {
        return Cow::Borrowed(text);
    }
    static SCHEME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Za-z][A-Za-z0-9+.\-]*://").expect("valid regex"));
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for m in SCHEME.find_iter(text) {
        if m.start() < done {
            continue; // inside the URL just redacted
        }
        redact_assignments(&text[done..m.start()], &mut out);
        let end = redact_url(text, m.start(), m.end(), &mut out);
        done = end;
    }
    redact_assignments(&text[done..], &mut out);
    if out == text { Cow::Borrowed(text) } else { Cow::Owned(out) }
}

/// [`redact`] for an owned string: the same string when there was nothing to redact.
pub fn redact_owned(text: String) -> String {
    match redact(&text) {
        Cow::Owned(redacted) => redacted,
        Cow::Borrowed(_) => text,
    }
}

/// Where the userinfo of a URL ends, as the readers that matter read `rest` (the URL after
/// `scheme://`): SQLAlchemy's `make_url` (the user name runs to the first `:` or `/`; after a
/// `:` the password runs to the first `@`, `/ ? #` included), RFC 3986 and WHATWG (the authority
/// ends at the first `/ ? #`; the userinfo at the last `@` in it) and libpq (the first `@`
/// unless a `/` comes first). A URL they read alike has one meaning.
pub(crate) fn userinfo_ends(rest: &str) -> [Option<usize>; 3] {
    let k = rest.find([':', '/']).unwrap_or(rest.len());
    let sqlalchemy = match rest[k..].starts_with(':').then(|| rest[k..].find('@')).flatten() {
        Some(at) => Some(k + at),
        None => rest[..k].rfind('@'),
    };
    let rfc = rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())].rfind('@');
    let libpq = rest.find(['@', '/']).filter(|&i| rest.as_bytes()[i] == b'@');
    [sqlalchemy, rfc, libpq]
}

/// Copies the URL whose scheme is `text[start..body]` into `out`, redacted; returns where it ends.
fn redact_url(text: &str, start: usize, body: usize, out: &mut String) -> usize {
    let opened_by = text[..start].chars().next_back().filter(|c| matches!(c, '"' | '\'' | '`' | '<'));
    let closer = opened_by.map(|c| if c == '<' { '>' } else { c });
    let line = &text[body..text[body..].find(['\n', '\r']).map_or(text.len(), |i| body + i)];
    let token_end = |s: &str| s.find(|c: char| c.is_whitespace() || Some(c) == closer).unwrap_or(s.len());
    out.push_str(&text[start..body]);
    // The userinfo: a user name without spaces, `:`, then the password up to the `@` that either
    // reader could take for its end; SQLAlchemy's may lie past a space or a quote.
    let mut pos = 0;
    if let Some(colon) = line.find(':').filter(|&c| !line[..c].contains(char::is_whitespace)) {
        let sqlalchemy = userinfo_ends(line)[0];
        let rfc = userinfo_ends(&line[..token_end(line)])[1];
        if let Some(at) = sqlalchemy.max(rfc).filter(|&at| at > colon) {
            out.push_str(&line[..=colon]);
            if at > colon + 1 {
                out.push_str(REDACTED);
            }
            pos = at;
        }
    }
    // The rest of the URL runs to a space, the closing quote or the end of the line.
    let url_end = pos + token_end(&line[pos..]);
    let rest = &line[pos..url_end];
    match rest.find('?') {
        Some(q) => {
            out.push_str(&rest[..=q]);
            redact_query(&rest[q + 1..], out);
        }
        None => out.push_str(rest),
    }
    body + url_end
}

/// A query string (`a=1&sslpassword=x`) with the values of secret parameters redacted.
fn redact_query(query: &str, out: &mut String) {
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((key, value)) if !value.is_empty() && is_secret_name(&decode_lossy(key)) => {
                out.push_str(key);
                out.push('=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(pair),
        }
    }
}

fn decode_lossy(s: &str) -> Cow<'_, str> {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy()
}

/// Copies `text` (holding no URL) into `out` with the values of secret assignments redacted.
fn redact_assignments(text: &str, out: &mut String) {
    static ASSIGNMENT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(["']?)([A-Za-z_][A-Za-z0-9_.\-]*)(["']?)[ \t]*(=|:)"#).expect("valid regex"));
    let mut done = 0;
    let mut at = 0;
    while let Some(c) = ASSIGNMENT.captures_at(text, at) {
        let whole = c.get(0).expect("match");
        at = whole.end();
        let (open, name, close, sep) = (&c[1], &c[2], &c[3], &c[4]);
        let before = text[..whole.start()].chars().next_back();
        let at_boundary = before.is_none_or(|b| b.is_whitespace() || "{[(,;?&\"'".contains(b));
        let after = text[whole.end()..].chars().next();
        // `name:` counts only before a space or a quote (not `host:5432`, `12:30`).
        let separated = sep == "=" || after.is_some_and(|a| matches!(a, ' ' | '\t' | '"' | '\''));
        if whole.start() < done || !at_boundary || open != close || !separated || !is_secret_name(name) {
            continue;
        }
        let line_start = text[..whole.start()].rfind('\n').map_or(0, |i| i + 1);
        let lead = text[line_start..whole.start()].trim_start_matches(['+', '-', ' ']).trim();
        let starts_line = lead.is_empty() || lead == "export";
        let value_start =
            whole.end() + text[whole.end()..].len() - text[whole.end()..].trim_start_matches([' ', '\t']).len();
        let value = &text[value_start..];
        let line_len = value.find(['\n', '\r']).unwrap_or(value.len());
        let len = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..line_len].find(q).map_or(line_len, |i| i + 2),
            _ if starts_line => line_len,
            _ => value[..line_len].find(|ch: char| ch.is_whitespace() || "&,;".contains(ch)).unwrap_or(line_len),
        };
        if len == 0 || &value[..len] == REDACTED {
            continue;
        }
        out.push_str(&text[done..value_start]);
        out.push_str(REDACTED);
        done = value_start + len;
        at = done.max(at);
    }
    out.push_str(&text[done..]);
}

/// A writer that redacts what is written through it ([`redact`]) before passing it on: logs go
/// through one, so no log line holds a secret whatever an event carries. It keeps what it is
/// given and writes it out, redacted, on flush or drop (a log formatter writes one event per
/// writer), so a secret split across writes is still seen whole.
pub struct Redacting<W: std::io::Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: std::io::Write> Redacting<W> {
    pub fn new(inner: W) -> Self {
        Redacting { inner, pending: Vec::new() }
    }
}

impl<W: std::io::Write> std::io::Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let text = String::from_utf8_lossy(&self.pending).into_owned();
            self.pending.clear();
            // Terminal colours can split a `name=value` field; a line that needs redacting
            // without them is written without them.
            static ANSI: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\x1b\[[0-9;]*m").expect("valid regex"));
            let plain = ANSI.replace_all(&text, "");
            let out = match redact(&plain) {
                Cow::Owned(redacted) => redacted,
                Cow::Borrowed(_) => text,
            };
            self.inner.write_all(out.as_bytes())?;
        }
        self.inner.flush()
    }
}

impl<W: std::io::Write> Drop for Redacting<W> {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let s = Secret::new("hunter22");
        assert_eq!(format!("{s} {s:?} {:?}", Some(&s)), "*** Secret(***) Some(Secret(***))");
        assert_eq!(s.expose(), "hunter22");
    }

    #[test]
    fn secret_names() {
        for name in [
            "password",
            "PASSWORD",
            "sslpassword",
            "DB_PASSWORD",
            "passwd",
            "pwd",
            "private_key_file_pwd",
            "passphrase",
            "private_key_passphrase",
            "client_secret",
            "SECRET_KEY",
            "token",
            "access_token",
            "api_key",
            "apiKey",
            "private_key",
            "credentials_base64",
            "sig",
            "X-Amz-Signature",
            "pass",
            "DB_PASS",
            "key",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "user",
            "sslkey",
            "ssl_key",
            "sslcert",
            "sslrootcert",
            "passfile",
            "private_key_file",
            "keyfile",
            "host",
            "sslmode",
            "application_name",
            "charset",
            "aws_access_key_id",
            "token_path",
            "database_url",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn urls_lose_their_password_and_secret_query_values_only() {
        for (text, want) in [
            ("postgresql://app:app@localhost/app", "postgresql://app:***@localhost/app"),
            (
                "see mysql+aiomysql://root:pw@h:3306/db?charset=utf8mb4.",
                "see mysql+aiomysql://root:***@h:3306/db?charset=utf8mb4.",
            ),
            ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
            ("postgresql://u:pa/ss@h/db", "postgresql://u:***@h/db"),
            ("postgresql://u:p?x@h/db", "postgresql://u:***@h/db"),
            ("postgresql://u:p#x@h/db x", "postgresql://u:***@h/db x"),
            ("postgresql://u:with space@h/db", "postgresql://u:***@h/db"),
            ("postgresql://u:pw@h/db?x=a@b", "postgresql://u:***@h/db?x=a@b"),
            ("postgresql://h/db?x=a@b", "postgresql://h/db?x=a@b"),
            ("postgresql://u@h/db", "postgresql://u@h/db"),
            ("postgresql://u:@h/db", "postgresql://u:@h/db"),
            ("postgresql://[::1]:5432/db", "postgresql://[::1]:5432/db"),
            (
                "postgresql://h/db?sslpassword=x&sslkey=/k.pem&pass%77ord=y",
                "postgresql://h/db?sslpassword=***&sslkey=/k.pem&pass%77ord=***",
            ),
            ("a \"postgresql://u:p\"w@h/db\" b", "a \"postgresql://u:***@h/db\" b"),
            ("x://u:1@h y://v:2@i", "x://u:***@h y://v:***@i"),
            ("/home/postgres/app/app.db", "/home/postgres/app/app.db"),
        ] {
            assert_eq!(redact(text), want, "{text}");
        }
    }

    #[test]
    fn assignments_lose_their_secret_values() {
        for (text, want) in [
            ("DB_PASSWORD=hunter2\nDB_USER=app\n", "DB_PASSWORD=***\nDB_USER=app\n"),
            ("+export API_TOKEN = 'a b' # x", "+export API_TOKEN = *** # x"),
            ("PASSWORD=with space\n", "PASSWORD=***\n"),
            (r#"{"password": "x y", "user": "u"}"#, r#"{"password": ***, "user": "u"}"#),
            ("event token=abc other=1", "event token=*** other=1"),
            ("password: hunter2", "password: ***"),
            ("host:5432 12:30 key:value", "host:5432 12:30 key:value"),
            ("passfile=/home/u/.pgpass", "passfile=/home/u/.pgpass"),
            ("app/core/config.py", "app/core/config.py"),
        ] {
            assert_eq!(redact(text), want, "{text}");
        }
    }

    #[test]
    fn the_log_writer_redacts_whole_events() {
        let mut sink = Vec::new();
        {
            let mut w = Redacting::new(&mut sink);
            std::io::Write::write_all(&mut w, b"url=postgresql://u:hun").unwrap();
            std::io::Write::write_all(&mut w, b"ter2@h/db\n").unwrap();
        }
        assert_eq!(String::from_utf8(sink).unwrap(), "url=postgresql://u:***@h/db\n");
        let mut sink = Vec::new();
        std::io::Write::write_all(
            &mut Redacting::new(&mut sink),
            b"INFO x: event \x1b[3mtoken\x1b[0m\x1b[2m=\x1b[0mabc \x1b[1mok\x1b[0m\n",
        )
        .unwrap();
        assert_eq!(String::from_utf8(sink).unwrap(), "INFO x: event token=*** ok\n");
        let mut sink = Vec::new();
        std::io::Write::write_all(&mut Redacting::new(&mut sink), b"\x1b[1mplain\x1b[0m\n").unwrap();
        assert_eq!(String::from_utf8(sink).unwrap(), "\x1b[1mplain\x1b[0m\n");
    }
}
