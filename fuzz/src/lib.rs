//! Oracles shared by the fuzz targets: where a password sits in a database URL (found without
//! skillrun's parser), how SQLAlchemy's `make_url` and RFC 3986 split a URL (ports of their
//! rules, independent of skillrun's), and whether a text leaks a password.

use std::sync::{LazyLock, OnceLock};

/// The passwords a URL may hold, read the naive way: the text between the first `:` and an `@`
/// after `scheme://` that a plain `host[:port]` follows (every such `@` is tried, since a
/// password may hold one; the user name before the `:` holds no `/`, `?` or `@`), raw and
/// decoded. Only candidates that can be told apart from the rest of the input are returned: at
/// least 4 characters, present exactly once in `whole_input`, and not a piece of skillrun's own
/// text (templates, messages, schemas), where it would show up for other reasons.
pub fn passwords(url: &str, whole_input: &str) -> Vec<String> {
    let Some((_, rest)) = url.split_once("://") else { return Vec::new() };
    let mut out = Vec::new();
    for (at, _) in rest.match_indices('@') {
        let Some((user, raw)) = rest[..at].split_once(':') else { continue };
        if user.contains(['/', '?', '@']) || !host_follows(&rest[at + 1..]) {
            continue; // a path or query, not a user name; or an `@` that does not end a userinfo
        }
        let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned();
        for candidate in [raw.to_owned(), decoded] {
            if candidate.chars().count() >= 4
                && whole_input.matches(candidate.as_str()).count() == 1
                && !boilerplate().contains(candidate.as_str())
                && !out.contains(&candidate)
            {
                out.push(candidate);
            }
        }
    }
    out
}

/// Whether `s` starts with a plain host (name or bracketed IPv6), an optional port, and then
/// ends or goes on with `/` or `?`, as after the `@` of a real URL's userinfo.
fn host_follows(s: &str) -> bool {
    let after_host = if let Some(v6) = s.strip_prefix('[') {
        match v6.split_once(']') {
            Some((inside, after))
                if !inside.is_empty() && inside.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') =>
            {
                after
            }
            _ => return false,
        }
    } else {
        let name =
            s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')).unwrap_or(s.len());
        if name == 0 {
            return false;
        }
        &s[name..]
    };
    let after_port = match after_host.strip_prefix(':') {
        Some(port) => port.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => after_host,
    };
    after_port.is_empty() || after_port.starts_with(['/', '?'])
}

/// Panics when `text` holds one of `secrets`.
pub fn assert_no_secret(what: &str, text: &str, secrets: &[String], input: &str) {
    for secret in secrets {
        assert!(!text.contains(secret.as_str()), "{what} leaks the password {secret:?} of input {input:?}: {text}");
    }
}

/// Every text skillrun could print on its own: its sources, skills and schemas.
fn boilerplate() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut text = String::new();
        let mut dirs = vec![root.join("src"), root.join("skills"), root.join("schemas")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(content) = std::fs::read_to_string(&path) {
                    text.push_str(&content);
                    text.push('\n');
                }
            }
        }
        assert!(text.contains("postgresql+asyncpg"), "skillrun's sources not found under {}", root.display());
        text.push_str(&std::env::temp_dir().display().to_string());
        text
    })
}

/// A URL's parts as a reader splits them: user name and password decoded, the rest as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Option<String>,
    pub port: Option<String>,
    pub database: Option<String>,
}

/// SQLAlchemy 2.x's `make_url` (`sqlalchemy/engine/url.py`, `_parse_url`): its regular
/// expression, which the `regex` crate matches with the same leftmost-first preferences as
/// Python's backtracking engine; `unquote` on user name and password.
pub fn sqlalchemy(url: &str) -> Option<Split> {
    static PATTERN: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(
            r"(?x)\A
            (?P<name>[\w\+]+)://
            (?:
                (?P<username>[^:/]*)
                (?::(?P<password>[^@]*))?
            @)?
            (?:
                (?:
                    \[(?P<ipv6host>[^/\?]+)\] |
                    (?P<ipv4host>[^/:\?]+)
                )?
                (?::(?P<port>[^/\?]*))?
            )?
            (?:/(?P<database>[^\?]*))?
            (?:\?(?P<query>.*))?",
        )
        .expect("valid regex")
    });
    let c = PATTERN.captures(url)?;
    let text = |name: &str| c.name(name).map(|m| m.as_str().to_owned());
    let unquote = |name: &str| c.name(name).map(|m| percent_encoding::percent_decode_str(m.as_str()).decode_utf8_lossy().into_owned());
    Some(Split {
        user: unquote("username"),
        password: unquote("password"),
        host: text("ipv4host").or_else(|| text("ipv6host")).filter(|h| !h.is_empty()),
        port: text("port").filter(|p| !p.is_empty()),
        database: text("database"),
    })
}

/// RFC 3986's split of the userinfo: the authority ends at the first `/ ? #`, the userinfo at
/// the last `@` in it, the user name at its first `:`. Decoded.
pub fn rfc3986_userinfo(url: &str) -> (Option<String>, Option<String>) {
    let Some((_, rest)) = url.split_once("://") else { return (None, None) };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let Some((userinfo, _)) = authority.rsplit_once('@') else { return (None, None) };
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    match userinfo.split_once(':') {
        Some((u, p)) => (Some(decode(u)), Some(decode(p))),
        None => (Some(decode(userinfo)), None),
    }
}
