//! The `database-url` derive step: reads a database URL as people write it (bare, sync-driver,
//! async-driver, JDBC, quoted, with or without an encoded password) and derives the async
//! driver's URL (a [`Secret`]), its redacted form, the database kind, and a copy with
//! placeholders for `.env.example`. A URL that SQLAlchemy, RFC 3986 and libpq would split
//! differently (a raw `@ / ? #` in a password) is refused with the fix, never guessed.
//!
//! Which schemes belong to which kind, and each kind's async driver, are data (`skill.json`).

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::Deserialize;

use crate::messages::{Lang, UrlPart};
use crate::secret::Secret;

/// The step as written in `skill.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    /// The input field holding the URL; the derived async URL replaces it (redacted in the
    /// context, whole among the run's secrets) and `<urlField>Example` gets the placeholder copy.
    pub url_field: String,
    /// The input field naming the database kind (a key of `dialects`); set from the URL if absent.
    pub type_field: String,
    /// The context field that gets the kind's async driver module (`asyncpg`), if any.
    #[serde(default)]
    pub driver_field: Option<String>,
    /// The password the example URL (`.env.example`) carries instead of the real one.
    pub placeholder_password: String,
    pub dialects: BTreeMap<String, Dialect>,
}

/// One database kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dialect {
    /// Schemes (lower case) that name this kind: `postgres`, `postgresql+psycopg2`, ...
    pub schemes: Vec<String>,
    /// The scheme every URL of this kind is rewritten to.
    #[serde(rename = "async")]
    pub async_scheme: String,
    pub driver: String,
    /// Query parameters the async driver spells differently (`sslmode` -> `ssl`).
    #[serde(default)]
    pub query_renames: BTreeMap<String, String>,
    /// Query parameters added when absent (`charset=utf8mb4`).
    #[serde(default)]
    pub query_defaults: BTreeMap<String, String>,
    /// A file database (SQLite): the rest of the URL is a path, not host and database.
    #[serde(default)]
    pub file: bool,
    /// The URL must name a database (MySQL has no default one).
    #[serde(default)]
    pub require_database: bool,
}

/// What the step derives.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    pub db_type: String,
    pub driver: String,
    /// The async driver's URL, password and all: only a secret file (`.env`) is written with it.
    pub url: Secret,
    /// The same URL with the password and the values of secret query parameters
    /// ([`crate::secret::is_secret_name`]) replaced by `***`: what every other file, the report and
    /// the answers file see. It is what [`crate::secret::redact`] makes of `url`.
    pub url_redacted: String,
    /// The same URL with the placeholder in each of those places, for `.env.example`.
    pub url_example: String,
    /// What was changed, in words, for the report.
    pub rewritten_from: Option<String>,
}

/// Why a URL cannot be used. `message` says what is wrong and how to fix it, and never holds a
/// part of the URL that could be a password.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlError {
    pub field: String,
    pub message: String,
}

/// Derives the async URL from `url`; `db_type` is the kind the user named, if any.
pub fn derive(spec: &Spec, url: &str, db_type: Option<&str>, lang: Lang) -> Result<Derived, UrlError> {
    let derived = derive_url(spec, url, db_type, lang)?;
    // `.env` readers (python-dotenv, compose) expand `${NAME}` even inside quotes; a password is
    // percent-encoded, so only a database name, path or query can still hold one.
    if derived.url.expose().contains("${") {
        return Err(UrlError { field: format!("/{}", spec.url_field), message: lang.say().url_dollar_brace() });
    }
    Ok(derived)
}

fn derive_url(spec: &Spec, url: &str, db_type: Option<&str>, lang: Lang) -> Result<Derived, UrlError> {
    let say = lang.say();
    let url_err = |message: String| UrlError { field: format!("/{}", spec.url_field), message };
    // A pasted URL may come in quotes or angle brackets. A closing one is taken off only when the
    // URL opened with one (`db"` may be a database name), so a derived URL reads back the same.
    let quote = |c| c == '"' || c == '\'' || c == '<' || c == '>';
    let trimmed = url.trim();
    let unquoted = trimmed.trim_start_matches(quote).trim_start();
    let url = if unquoted.len() < trimmed.len() { unquoted.trim_end_matches(quote).trim_end() } else { trimmed };
    // A JDBC URL names the same database: `jdbc:postgresql://...`.
    let url = url.get(..5).filter(|p| p.eq_ignore_ascii_case("jdbc:")).map_or(url, |_| &url[5..]);
    let kinds = spec.dialects.keys().cloned().collect::<Vec<_>>().join(", ");
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(url_err(say.url_no_scheme()));
    };
    // A scheme is letters, digits, `+ . -`: anything else before the first `://` is not one, and
    // is never echoed (it may hold a user name and password).
    let is_scheme = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    };
    if !is_scheme(scheme) {
        return Err(url_err(say.url_bad_scheme()));
    }
    // A second `scheme://` means two URLs run together (or an unencoded `://` in a password):
    // which part is the password cannot be told, so nothing is guessed.
    if rest.contains("://") {
        return Err(url_err(say.url_two_schemes()));
    }
    let scheme_lc = scheme.to_ascii_lowercase();
    let Some((kind, dialect)) = spec.dialects.iter().find(|(_, d)| d.schemes.contains(&scheme_lc)) else {
        return Err(url_err(say.url_unsupported(scheme, &kinds)));
    };
    if let Some(given) = db_type
        && given != kind
    {
        return Err(UrlError {
            field: format!("/{}", spec.type_field),
            message: { lang.say().url_type_mismatch(given, &spec.url_field, kind, &spec.type_field) },
        });
    }
    let rewritten_from = (scheme != dialect.async_scheme).then(|| format!("{scheme}://"));
    let escaped_name = |part: UrlPart| url_err(say.url_escaped_name(part));
    if dialect.file {
        if !(rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')) {
            return Err(url_err(say.url_file_host(scheme)));
        }
        if has_escape(rest.split('?').next().unwrap_or_default()) {
            return Err(escaped_name(UrlPart::Path));
        }
        let url = format!("{}://{rest}", dialect.async_scheme);
        // A file database has no password; text that reads as one (`?x=1:pw@h`, `?password=`)
        // is refused rather than copied into `.env.example`.
        if crate::secret::redact(&url) != url {
            return Err(url_err(say.url_file_secret()));
        }
        return Ok(Derived {
            db_type: kind.clone(),
            driver: dialect.driver.clone(),
            url_redacted: url.clone(),
            url_example: url.clone(),
            url: Secret::new(url),
            rewritten_from,
        });
    }

    let parts = split_network(rest).map_err(|problem| match problem {
        Problem::Ambiguous(chars) => ambiguous(chars, lang, &spec.url_field),
        Problem::Unreadable => url_err(say.url_unreadable(scheme)),
    })?;
    // Raw spaces and control characters only survive (encoded) in the user name and password.
    let spaced = |part: &str| part.chars().any(|c| c.is_whitespace() || c.is_control());
    let named = [(Some(parts.host), UrlPart::Host), (parts.database, UrlPart::Database), (parts.query, UrlPart::Query)];
    if let Some((_, part)) = named.into_iter().find(|(text, _)| text.is_some_and(spaced)) {
        return Err(url_err(say.url_space(part)));
    }
    // The port is not echoed: `host:secret` may be a user name and password without the `@`.
    if let Some(port) = parts.port
        && (port.is_empty()
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u32>().map_or(true, |p| p == 0 || p > 65535))
    {
        return Err(url_err(say.url_bad_port()));
    }
    if dialect.require_database && parts.database.is_none_or(str::is_empty) {
        return Err(url_err(say.url_no_database(scheme)));
    }
    if parts.database.is_some_and(has_escape) {
        return Err(escaped_name(UrlPart::Database));
    }
    let not_text = |part: UrlPart| url_err(say.url_not_utf8(part));
    let user = parts.user.map(|u| decode(u).ok_or_else(|| not_text(UrlPart::User))).transpose()?;
    let password = parts.password.map(|p| decode(p).ok_or_else(|| not_text(UrlPart::Password))).transpose()?;
    let mut query: Vec<(String, String, bool)> = Vec::new();
    for pair in parts.query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = dialect.query_renames.get(k).cloned().unwrap_or_else(|| k.to_owned());
        let secret = !v.is_empty() && crate::secret::is_secret_name(&percent_decode_str(&key).decode_utf8_lossy());
        query.push((key, v.to_owned(), secret));
    }
    for (k, v) in &dialect.query_defaults {
        if !query.iter().any(|(qk, _, _)| qk == k) {
            query.push((k.clone(), v.clone(), false));
        }
    }
    // The URL with `secret` in place of the password and of each secret query value, or, with
    // `None`, as it is.
    let build = |secret: Option<&str>| {
        let mut out = format!("{}://", dialect.async_scheme);
        if let Some(user) = &user {
            out.push_str(&encode(user));
            if let Some(p) = &password {
                out.push(':');
                out.push_str(&match secret {
                    Some(s) if !p.is_empty() => s.to_owned(),
                    _ => encode(p),
                });
            }
            out.push('@');
        }
        out.push_str(parts.host);
        if let Some(port) = parts.port {
            out.push(':');
            out.push_str(port);
        }
        if let Some(db) = parts.database {
            out.push('/');
            out.push_str(db);
        }
        for (i, (k, v, is_secret)) in query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(k);
            out.push('=');
            out.push_str(secret.filter(|_| *is_secret).unwrap_or(v));
        }
        out
    };
    Ok(Derived {
        db_type: kind.clone(),
        driver: dialect.driver.clone(),
        url: Secret::new(build(None)),
        url_redacted: build(Some(crate::secret::REDACTED)),
        url_example: build(Some(&spec.placeholder_password)),
        rewritten_from,
    })
}

/// Why the text after `scheme://` cannot be split into its parts.
enum Problem {
    /// Readers of URLs split it differently; these raw characters are where they part.
    Ambiguous(Vec<char>),
    Unreadable,
}

/// The error for a URL that can be read in more than one way: which characters, and how to
/// write them. Nothing of the URL itself is echoed.
fn ambiguous(chars: Vec<char>, lang: Lang, field: &str) -> UrlError {
    let quoted = chars.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
    let fixes = chars.iter().map(|c| format!("`{c}` -> `%{:02X}`", *c as u32)).collect::<Vec<_>>().join(", ");
    UrlError { field: format!("/{field}"), message: lang.say().url_ambiguous(&quoted, &fixes) }
}

struct NetworkParts<'a> {
    user: Option<&'a str>,
    password: Option<&'a str>,
    host: &'a str,
    port: Option<&'a str>,
    database: Option<&'a str>,
    query: Option<&'a str>,
}

/// Splits `user:password@host:port/database?query`, refusing what SQLAlchemy, RFC 3986 and libpq
/// would split differently ([`crate::secret::userinfo_ends`]): a raw `@` in the user name or
/// password, a raw `/ ? #` in the password; and a raw `@` later in the URL that could end a
/// userinfo: any after a userinfo, or one with a `:` before it (`user/x:pw@host`).
fn split_network(rest: &str) -> Result<NetworkParts<'_>, Problem> {
    let ends = crate::secret::userinfo_ends(rest);
    // The characters up to the last `@` any reader takes for the end of the userinfo.
    let parting = |upto: usize| {
        Problem::Ambiguous(['@', '/', '?', '#'].into_iter().filter(|c| rest[..=upto].contains(*c)).collect())
    };
    if ends.iter().any(|e| *e != ends[0]) {
        return Err(parting(ends.iter().flatten().copied().max().unwrap_or_default()));
    }
    // Another raw `@` after a userinfo could end a longer one (`u:a@b/c?d@h`); without a
    // userinfo, one with a `:` before it could end a `user:password` (`u/x:pw@h`, `h:1/d?a@b`).
    let after_userinfo = ends[0].map_or(0, |at| at + 1);
    if let Some(at) = rest[after_userinfo..].find('@').map(|i| after_userinfo + i)
        && (ends[0].is_some() || rest[..at].contains(':'))
    {
        return Err(parting(at));
    }
    let (user, password) = match ends[0] {
        None => (None, None),
        Some(at) => match rest[..at].split_once(':') {
            Some((u, p)) => (Some(u), Some(p)),
            None => (Some(&rest[..at]), None),
        },
    };
    let s = &rest[after_userinfo..];
    let (before_query, query) = match s.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (s, None),
    };
    let (authority, database) = match before_query.split_once('/') {
        Some((a, d)) => (a, Some(d)),
        None => (before_query, None),
    };
    // SQLAlchemy keeps a `#` in the host; RFC 3986 ends the host there.
    if authority.contains('#') {
        return Err(Problem::Ambiguous(vec!['#']));
    }
    if database.is_some_and(|d| d.contains('/')) {
        return Err(Problem::Unreadable);
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6.split_once(']').ok_or(Problem::Unreadable)?;
        let host = &authority[..inside.len() + 2];
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or(Problem::Unreadable)?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.contains(':') && !host.starts_with('[') {
        return Err(Problem::Unreadable);
    }
    Ok(NetworkParts { user, password, host, port, database, query })
}

/// Whether `s` holds a percent-escape (`%` and two hex digits).
fn has_escape(s: &str) -> bool {
    s.as_bytes().windows(3).any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// `s` with its percent-escapes decoded (a `%` not followed by two hex digits stays, as Python's
/// `unquote` leaves it); `None` when the result is not UTF-8.
fn decode(s: &str) -> Option<String> {
    percent_decode_str(s).decode_utf8().ok().map(|c| c.into_owned())
}

/// Everything but RFC 3986's unreserved characters, percent-encoded.
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes everything but RFC 3986 unreserved characters, so the result survives URL
/// parsing, dotenv files (no `$`, `#`, quotes or spaces) and, once `%` is doubled, configparser.
fn encode(s: &str) -> String {
    utf8_percent_encode(s, RESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        let skill: serde_json::Value =
            serde_json::from_str(include_str!("../../../skills/database-setup/skill.json")).unwrap();
        let mut step = skill["derive"][0].clone();
        step.as_object_mut().unwrap().remove("kind");
        serde_json::from_value(step).unwrap()
    }

    fn url(input: &str) -> String {
        derive(&spec(), input, None, Lang::En)
            .unwrap_or_else(|e| panic!("{input}: {}", e.message))
            .url
            .expose()
            .to_owned()
    }

    fn refused(input: &str, lang: Lang) -> String {
        derive(&spec(), input, None, lang).map(|d| d.url.expose().to_owned()).expect_err(input).message
    }

    #[test]
    fn bare_and_sync_urls_become_async() {
        assert_eq!(url("postgresql://u:p@localhost:5432/app"), "postgresql+asyncpg://u:p@localhost:5432/app");
        assert_eq!(url("postgres://u@db/app"), "postgresql+asyncpg://u@db/app");
        assert_eq!(url("PostgreSQL+psycopg2://u:p@h/app"), "postgresql+asyncpg://u:p@h/app");
        assert_eq!(
            url("mysql+pymysql://root@127.0.0.1:3306/app"),
            "mysql+aiomysql://root@127.0.0.1:3306/app?charset=utf8mb4"
        );
        assert_eq!(url("mysql://root@h/app?charset=latin1"), "mysql+aiomysql://root@h/app?charset=latin1");
        assert_eq!(url("sqlite:///./app.db"), "sqlite+aiosqlite:///./app.db");
        assert_eq!(url("sqlite://"), "sqlite+aiosqlite://");
        assert_eq!(url("  'sqlite:////tmp/a.db' "), "sqlite+aiosqlite:////tmp/a.db");
        assert_eq!(
            url("jdbc:postgresql://db:5432/app?connect_timeout=5"),
            "postgresql+asyncpg://db:5432/app?timeout=5"
        );
        assert_eq!(url("postgresql:///app"), "postgresql+asyncpg:///app");
    }

    #[test]
    fn passwords_are_encoded_once() {
        assert_eq!(url("postgresql://u:p%40ss@h/db"), "postgresql+asyncpg://u:p%40ss@h/db");
        assert_eq!(url("postgresql://u:a%2Fb%3Fc%23d@h:1/db"), "postgresql+asyncpg://u:a%2Fb%3Fc%23d@h:1/db");
        assert_eq!(url("postgresql://u:100%@h/db"), "postgresql+asyncpg://u:100%25@h/db");
        assert_eq!(url("postgresql://u:p:w@h/db"), "postgresql+asyncpg://u:p%3Aw@h/db");
        assert_eq!(
            url("postgresql://u:[x]!$&'()*+,;=@h/db"),
            "postgresql+asyncpg://u:%5Bx%5D%21%24%26%27%28%29%2A%2B%2C%3B%3D@h/db"
        );
        let d = derive(&spec(), "postgresql://u:s3cret@h/db?sslpassword=k3y&sslkey=/k.pem", None, Lang::En).unwrap();
        assert_eq!(
            d.url_example,
            "postgresql+asyncpg://u:change-me@h/db?ssl%70assword=change-me&sslkey=/k.pem".replace("ssl%70", "sslp")
        );
        assert_eq!(d.url_redacted, "postgresql+asyncpg://u:***@h/db?sslpassword=***&sslkey=/k.pem");
        assert_eq!(crate::secret::redact(d.url.expose()), d.url_redacted);
        assert_eq!(format!("{:?}", d.url), "Secret(***)");
        let e = refused("postgresql://u:%FF@h/db", Lang::En);
        assert!(e.contains("not UTF-8"), "{e}");
    }

    #[test]
    fn a_url_read_two_ways_is_refused_with_the_fix() {
        for (input, fix) in [
            ("postgresql://u:p@ss@h/db", "`@` -> `%40`"),
            ("postgresql://u:pa/ss@h/db", "`/` -> `%2F`"),
            ("postgresql://u:p?x@h/db", "`?` -> `%3F`"),
            ("postgresql://u:p#x@h/db", "`#` -> `%23`"),
            ("postgresql://u@x@h/db", "`@` -> `%40`"),
            ("postgresql://h:5432/db?app=a@b", "`@` -> `%40`"),
            ("postgresql://u@h:5432/db?x=a@b", "`@` -> `%40`"),
            ("postgresql://u/x:pw@h/db", "`@` -> `%40`"),
            ("mysql://root:a/b@c@h:3306/db", "`/` -> `%2F`"),
            ("postgresql://h#x/db", "`#` -> `%23`"),
        ] {
            let e = refused(input, Lang::En);
            assert!(e.starts_with("can be read in more than one way") && e.contains(fix), "{input}: {e}");
            let k = refused(input, Lang::Ko);
            assert!(k.contains("두 가지 이상으로 읽을 수") && k.contains(fix), "{input}: {k}");
            for piece in ["ss", "pa", "x", "5432", "pw"] {
                assert!(!e.contains(&format!("{piece}@")) && !e.contains(&format!(":{piece}")), "{input}: {e}");
            }
        }
        // Unambiguous: one `@`, or, without a userinfo, a later `@` no `user:password` could end at.
        assert_eq!(url("postgresql://h/db?application_name=a@b"), "postgresql+asyncpg://h/db?application_name=a@b");
        assert_eq!(url("postgresql://h/d@b"), "postgresql+asyncpg://h/d@b");
        assert_eq!(
            url("postgresql://u:pw@h/db?application_name=a%40b"),
            "postgresql+asyncpg://u:pw@h/db?application_name=a%40b"
        );
        assert!(refused("postgresql://u:pw@h/db?application_name=a@b", Lang::En).contains("`@` -> `%40`"));
        let e = refused("postgresql://u:a@b/c?d#e@db:5432/app", Lang::En);
        assert!(e.contains("`@` -> `%40`, `/` -> `%2F`, `?` -> `%3F`, `#` -> `%23`"), "{e}");
    }

    #[test]
    fn escapes_in_a_database_name_are_refused() {
        for input in ["postgresql://u@h/my%20db", "sqlite:///./a%41.db"] {
            let e = refused(input, Lang::En);
            assert!(e.contains("SQLAlchemy 2.0 keeps as written and 2.1 decodes"), "{input}: {e}");
        }
        assert_eq!(url("sqlite:///./100%.db"), "sqlite+aiosqlite:///./100%.db");
    }

    #[test]
    fn a_file_database_url_holds_no_secret() {
        for input in ["sqlite://?x=1:pw@h", "sqlite:///./app.db?password=x"] {
            assert!(refused(input, Lang::En).contains("a file database does not use"), "{input}");
        }
        assert_eq!(url("sqlite:///./a:b@c.db"), "sqlite+aiosqlite:///./a:b@c.db");
    }

    #[test]
    fn garbage_before_the_first_scheme_and_a_second_url_are_refused_without_echo() {
        // Found by `cargo fuzz run dburl` / `input` on the merged code.
        for (bad, words) in [
            ("jdbc://:@@@@@pos@@postgresql://@@@o@", "does not start with a scheme"),
            ("mysql+aiomysql://roo7.0ql:1/app?c@aaiomysql://roosslmodeql:1/app?", "second `://`"),
        ] {
            let e = derive(&spec(), bad, None, Lang::En).unwrap_err();
            assert!(e.message.contains(words), "{bad}: {}", e.message);
            assert!(!e.message.contains("@@pos@") && !e.message.contains("1/app?c"), "{}", e.message);
        }
    }

    #[test]
    fn a_derived_url_derives_to_itself() {
        // Found by `cargo fuzz run dburl`: a quote before the query was trimmed on the second pass.
        for input in ["postgresql://u:@s@h/db\"?", "mysql://h/db'", "<postgresql://h/db>", "\"sqlite:///a.db"] {
            let Ok(first) = derive(&spec(), input, None, Lang::En) else { continue };
            let second = derive(&spec(), first.url.expose(), None, Lang::En).unwrap();
            assert_eq!((second.url, second.url_example), (first.url, first.url_example), "{input}");
        }
        assert_eq!(url("postgresql://h/db\"?"), "postgresql+asyncpg://h/db\"");
        assert_eq!(url("<postgresql://h/db>"), "postgresql+asyncpg://h/db");
        assert_eq!(url("\"sqlite:///a.db"), "sqlite+aiosqlite:///a.db");
        // Also found by it: a space before a dropped `?` ended the URL and was trimmed next time.
        for bad in ["postgresql:///a b ?", "postgresql://h/db?a=b &", "postgresql://h\0x/db", "mysql://h/d\nb"] {
            let e = derive(&spec(), bad, None, Lang::En).unwrap_err();
            assert!(e.message.contains("has a space or control character in its"), "{bad}: {}", e.message);
        }
        assert_eq!(url("postgresql://u:pa ss\t@h/db"), "postgresql+asyncpg://u:pa%20ss%09@h/db");
    }

    #[test]
    fn hosts_ports_and_queries() {
        assert_eq!(url("postgresql://u:p@[::1]:5433/db"), "postgresql+asyncpg://u:p@[::1]:5433/db");
        assert_eq!(
            url("postgresql://u@/db?host=/var/run/postgresql"),
            "postgresql+asyncpg://u@/db?host=/var/run/postgresql"
        );
        assert_eq!(url("postgresql://u:p@h/db?sslmode=require"), "postgresql+asyncpg://u:p@h/db?ssl=require");
    }

    #[test]
    fn kind_comes_from_url_and_must_agree() {
        let d = derive(&spec(), "mysql://r@h/db", None, Lang::En).unwrap();
        assert_eq!((d.db_type.as_str(), d.driver.as_str()), ("mysql", "aiomysql"));
        let e = derive(&spec(), "mysql://r@h/db", Some("postgresql"), Lang::En).unwrap_err();
        assert_eq!(e.field, "/dbType");
        assert!(e.message.contains("set dbType to \"mysql\""), "{}", e.message);
    }

    #[test]
    fn bad_urls_say_how_to_fix_and_echo_nothing_that_could_be_a_password() {
        for (bad, needle) in [
            ("localhost/db", "no `scheme://`"),
            ("oracle://u@h/db", "does not support"),
            ("postgresql://u@h:abc/db", "not a port number"),
            ("postgresql://u:hunter22/db", "not a port number"),
            ("sqlite://app.db", "three slashes"),
            ("sqlite://u:hunter22@host/app.db", "three slashes"),
            ("mysql://root@localhost:3306", "names no database"),
            ("mysql://root@localhost/", "names no database"),
        ] {
            let e = derive(&spec(), bad, None, Lang::En).unwrap_err();
            assert_eq!(e.field, "/databaseUrl");
            assert!(e.message.contains(needle), "{bad}: {}", e.message);
            assert!(
                !e.message.contains("hunter22") && !e.message.contains("abc") && !e.message.contains("host`"),
                "{}",
                e.message
            );
        }
        let e = derive(&spec(), "oracle://u:pw@h/db", None, Lang::Ko).unwrap_err();
        assert!(e.message.contains("지원하지 않는"), "{}", e.message);
        assert!(!e.message.contains("pw"));
    }
}
