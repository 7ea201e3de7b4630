//! The `database-url` derive step: reads a database URL as people write it (bare, sync-driver,
//! async-driver, with or without an encoded password) and derives the async driver's URL, the
//! database kind, and a copy without the password for `.env.example`.
//!
//! Which schemes belong to which kind, and each kind's async driver, are data (`skill.json`).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::trigger::Lang;

/// The step as written in `skill.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    pub url_field: String,
    pub type_field: String,
    #[serde(default = "default_placeholder")]
    pub placeholder_password: String,
    pub dialects: BTreeMap<String, Dialect>,
}

fn default_placeholder() -> String {
    "change-me".into()
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
    pub url: String,
    pub url_example: String,
    /// The password as written in the URL and decoded, to scrub from any text we emit.
    pub secrets: Vec<String>,
    /// What was changed, in words, for the report.
    pub rewritten_from: Option<String>,
}

/// Why a URL cannot be used. `message` says what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlError {
    pub field: String,
    pub message: String,
}

const SECRET_QUERY_KEYS: [&str; 5] = ["password", "passwd", "pwd", "secret", "token"];

/// Derives the async URL from `url`; `db_type` is the kind the user named, if any.
pub fn derive(spec: &Spec, url: &str, db_type: Option<&str>, lang: Lang) -> Result<Derived, UrlError> {
    let derived = derive_url(spec, url, db_type, lang)?;
    // `.env` readers (python-dotenv, compose) expand `${NAME}` even inside quotes; a password is
    // percent-encoded, so only a database name, path or query can still hold one.
    if derived.url.contains("${") {
        return Err(UrlError {
            field: format!("/{}", spec.url_field),
            message: match lang {
                Lang::Ko => "`${`가 들어 있습니다. .env를 읽는 도구가 변수로 바꿔 버리니 데이터베이스 이름·경로·쿼리에서 빼거나 `$`를 `%24`로 쓰세요".into(),
                Lang::En => "holds `${`, which .env readers expand as a variable; remove it from the database name, path or query, or write `$` as `%24`".into(),
            },
        });
    }
    Ok(derived)
}

fn derive_url(spec: &Spec, url: &str, db_type: Option<&str>, lang: Lang) -> Result<Derived, UrlError> {
    let ko = lang == Lang::Ko;
    let url_err = |en: String, ko_text: String| UrlError {
        field: format!("/{}", spec.url_field),
        message: if ko { ko_text } else { en },
    };
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
        return Err(url_err(
            "is not a database URL (no `scheme://`); write it as e.g. `postgresql://user:password@localhost:5432/app` or `sqlite:///./app.db`".to_string(),
            "데이터베이스 URL이 아닙니다 (`scheme://` 없음). 예: `postgresql://user:password@localhost:5432/app` 또는 `sqlite:///./app.db` 형식으로 쓰세요".to_string(),
        ));
    };
    // A scheme is letters, digits, `+ . -`: anything else before the first `://` is not one, and
    // is never echoed (it may hold a user name and password).
    let is_scheme = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    };
    if !is_scheme(scheme) {
        return Err(url_err(
            "does not start with a scheme (`postgresql://`, `mysql://`, `sqlite://`); write it as e.g. `postgresql://user:password@localhost:5432/app`".to_string(),
            "스킴(`postgresql://`, `mysql://`, `sqlite://`)으로 시작하지 않습니다. 예: `postgresql://user:password@localhost:5432/app` 형식으로 쓰세요".to_string(),
        ));
    }
    // A second `scheme://` means two URLs run together (or an unencoded `://` in a password):
    // which part is the password cannot be told, so nothing is guessed.
    if rest.contains("://") {
        return Err(url_err(
            "holds a second `://`; give one URL, and percent-encode `:` and `/` in a password (`%3A`, `%2F`)"
                .to_string(),
            "`://`가 두 번 들어 있습니다. URL 하나만 쓰고, 비밀번호의 `:`와 `/`는 퍼센트 인코딩하세요 (`%3A`, `%2F`)"
                .to_string(),
        ));
    }
    let scheme_lc = scheme.to_ascii_lowercase();
    let Some((kind, dialect)) = spec.dialects.iter().find(|(_, d)| d.schemes.contains(&scheme_lc)) else {
        return Err(url_err(
            format!("uses `{scheme}://`, which this skill does not support; use a {kinds} URL"),
            format!("`{scheme}://`는 지원하지 않는 URL입니다. {kinds} URL을 쓰세요"),
        ));
    };
    if let Some(given) = db_type
        && given != kind
    {
        return Err(UrlError {
            field: format!("/{}", spec.type_field),
            message: if ko {
                format!(
                    "\"{given}\"이지만 databaseUrl은 {kind} URL입니다. dbType을 \"{kind}\"로 바꾸거나 생략하세요 (URL에서 정해집니다), 또는 {given} URL을 쓰세요"
                )
            } else {
                format!(
                    "is \"{given}\" but databaseUrl is a {kind} URL; set dbType to \"{kind}\" or leave it out (the URL decides), or give a {given} URL"
                )
            },
        });
    }
    let rewritten_from = (scheme != dialect.async_scheme).then(|| format!("{scheme}://"));
    let base = Derived {
        db_type: kind.clone(),
        driver: dialect.driver.clone(),
        url: String::new(),
        url_example: String::new(),
        secrets: Vec::new(),
        rewritten_from,
    };
    if dialect.file {
        if !(rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')) {
            // Name the host but never the userinfo before it: it may hold a password.
            let host = rest.rsplit_once('@').map_or(rest, |(_, after)| after).split('/').next().unwrap_or("");
            return Err(url_err(
                format!(
                    "names a host for a file database (`{scheme}://{host}`); use three slashes for a relative path (`{scheme}:///./app.db`) or four for an absolute one (`{scheme}:////data/app.db`)"
                ),
                format!(
                    "파일 데이터베이스 URL에 호스트가 있습니다. 상대 경로는 슬래시 세 개(`{scheme}:///./app.db`), 절대 경로는 네 개(`{scheme}:////data/app.db`)로 쓰세요"
                ),
            ));
        }
        let url = format!("{}://{rest}", dialect.async_scheme);
        return Ok(Derived { url: url.clone(), url_example: url, ..base });
    }

    let parts = split_network(rest).ok_or_else(|| {
        url_err(
            format!("cannot be read: expected `{scheme}://user:password@host:port/database`"),
            format!("URL을 읽을 수 없습니다. `{scheme}://user:password@host:port/database` 형식이어야 합니다"),
        )
    })?;
    // Raw spaces and control characters only survive (encoded) in the user name and password.
    let spaced = |part: &str| part.chars().any(|c| c.is_whitespace() || c.is_control());
    let named = [
        (Some(parts.host), "host", "호스트"),
        (parts.database, "database", "데이터베이스 이름"),
        (parts.query, "query", "쿼리"),
    ];
    if let Some((_, en, ko_part)) = named.into_iter().find(|(part, _, _)| part.is_some_and(spaced)) {
        return Err(url_err(
            format!("has a space or control character in its {en}; remove it, or percent-encode it (a space is `%20`)"),
            format!("{ko_part}에 공백이나 제어 문자가 있습니다. 지우거나 퍼센트 인코딩하세요 (공백은 `%20`)"),
        ));
    }
    if let Some(port) = parts.port
        && (port.is_empty()
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u32>().map_or(true, |p| p == 0 || p > 65535))
    {
        return Err(url_err(
            format!("has port `{port}`, which is not a port number (1-65535); e.g. `localhost:5432`"),
            format!("포트 `{port}`는 올바른 포트 번호(1-65535)가 아닙니다. 예: `localhost:5432`"),
        ));
    }
    if dialect.require_database && parts.database.is_none_or(str::is_empty) {
        return Err(url_err(
            format!("names no database; add it after the host, e.g. `{scheme}://user:password@localhost:3306/app`"),
            format!(
                "데이터베이스 이름이 없습니다. 호스트 뒤에 붙이세요. 예: `{scheme}://user:password@localhost:3306/app`"
            ),
        ));
    }
    let user = parts.user.map(|u| encode(&decode(u)));
    let password = parts.password.map(decode);
    let mut secrets = Vec::new();
    if let (Some(raw), Some(decoded)) = (parts.password, &password)
        && !decoded.is_empty()
    {
        secrets.extend([raw.to_owned(), decoded.clone(), encode(decoded)]);
    }
    let mut query: Vec<(String, String)> = Vec::new();
    for pair in parts.query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = dialect.query_renames.get(k).cloned().unwrap_or_else(|| k.to_owned());
        if SECRET_QUERY_KEYS.contains(&key.to_ascii_lowercase().as_str()) && !v.is_empty() {
            secrets.extend([v.to_owned(), decode(v)]);
        }
        query.push((key, v.to_owned()));
    }
    for (k, v) in &dialect.query_defaults {
        if !query.iter().any(|(qk, _)| qk == k) {
            query.push((k.clone(), v.clone()));
        }
    }
    let build = |password: Option<&str>, redact_query: bool| {
        let mut out = format!("{}://", dialect.async_scheme);
        if let Some(user) = &user {
            out.push_str(user);
            if let Some(p) = password {
                out.push(':');
                out.push_str(p);
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
        for (i, (k, v)) in query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(k);
            out.push('=');
            let secret = redact_query && SECRET_QUERY_KEYS.contains(&k.to_ascii_lowercase().as_str());
            out.push_str(if secret { "change-me" } else { v });
        }
        out
    };
    let encoded = password.as_deref().map(encode);
    let url = build(encoded.as_deref(), false);
    let example = build(password.as_ref().map(|_| spec.placeholder_password.as_str()), true);
    Ok(Derived { url, url_example: example, secrets, ..base })
}

struct NetworkParts<'a> {
    user: Option<&'a str>,
    password: Option<&'a str>,
    host: &'a str,
    port: Option<&'a str>,
    database: Option<&'a str>,
    query: Option<&'a str>,
}

/// Splits `user:password@host:port/database?query`. A password may hold unencoded `@ / ? # :`:
/// the userinfo ends at the first `@` after which a well-formed host part follows.
fn split_network(rest: &str) -> Option<NetworkParts<'_>> {
    // Leftmost `@` first (a password may hold `@`), then no userinfo at all; a username never
    // holds `/` or `?`, so an `@` in the path or query is not taken for the userinfo's end.
    let candidates = rest.match_indices('@').map(|(i, _)| Some(i)).chain(std::iter::once(None));
    let mut found = None;
    for at in candidates {
        if let Some(i) = at {
            let user = rest[..i].split(':').next().unwrap_or_default();
            if user.contains(['/', '?']) {
                continue;
            }
        }
        let after = at.map_or(rest, |i| &rest[i + 1..]);
        if let Some(parts) = split_host(after) {
            found = Some((at, parts));
            break;
        }
    }
    let (at, (host, port, database, query)) = found?;
    let (user, password) = match at {
        None => (None, None),
        Some(i) => match rest[..i].split_once(':') {
            Some((u, p)) => (Some(u), Some(p)),
            None => (Some(&rest[..i]), None),
        },
    };
    Some(NetworkParts { user, password, host, port, database, query })
}

type HostParts<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

fn split_host(s: &str) -> Option<HostParts<'_>> {
    let (before_query, query) = match s.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (s, None),
    };
    let (authority, database) = match before_query.split_once('/') {
        Some((a, d)) => (a, Some(d)),
        None => (before_query, None),
    };
    if authority.contains('@') || database.is_some_and(|d| d.contains('@') || d.contains('/')) {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6.split_once(']')?;
        let host = &authority[..inside.len() + 2];
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.contains(':') && !host.starts_with('[') {
        return None;
    }
    Some((host, port, database, query))
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so the result survives URL
/// parsing, dotenv files (no `$`, `#`, quotes or spaces) and, once `%` is doubled, configparser.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
        derive(&spec(), input, None, Lang::En).unwrap().url
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
        assert_eq!(url("postgresql://u:p@ss@h/db"), "postgresql+asyncpg://u:p%40ss@h/db");
        assert_eq!(url("postgresql://u:p%40ss@h/db"), "postgresql+asyncpg://u:p%40ss@h/db");
        assert_eq!(url("postgresql://u:a/b?c#d@h:1/db"), "postgresql+asyncpg://u:a%2Fb%3Fc%23d@h:1/db");
        assert_eq!(url("postgresql://u:100%@h/db"), "postgresql+asyncpg://u:100%25@h/db");
        let d = derive(&spec(), "postgresql://u:s3cret@h/db", None, Lang::En).unwrap();
        assert_eq!(d.url_example, "postgresql+asyncpg://u:change-me@h/db");
        assert!(d.secrets.contains(&"s3cret".to_owned()));
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
            let second = derive(&spec(), &first.url, None, Lang::En).unwrap();
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
        assert_eq!(url("postgresql://h/db?application_name=a@b"), "postgresql+asyncpg://h/db?application_name=a@b");
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
    fn bad_urls_say_how_to_fix() {
        for (bad, needle) in [
            ("localhost/db", "no `scheme://`"),
            ("oracle://u@h/db", "does not support"),
            ("postgresql://u@h:abc/db", "not a port number"),
            ("sqlite://app.db", "three slashes"),
            ("mysql://root@localhost:3306", "names no database"),
            ("mysql://root@localhost/", "names no database"),
        ] {
            let e = derive(&spec(), bad, None, Lang::En).unwrap_err();
            assert_eq!(e.field, "/databaseUrl");
            assert!(e.message.contains(needle), "{bad}: {}", e.message);
        }
        let e = derive(&spec(), "oracle://u:pw@h/db", None, Lang::Ko).unwrap_err();
        assert!(e.message.contains("지원하지 않는"), "{}", e.message);
        assert!(!e.message.contains("pw"));
    }
}
