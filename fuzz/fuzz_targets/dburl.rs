//! Database URL derivation (`skillrun::dburl::derive`) on any string.
//!
//! Invariants: no panic; the answer does not depend on the language, and naming the kind the URL
//! has changes nothing while naming another one is a `/dbType` error; a derived URL is canonical
//! (deriving it again gives the same URL, redacted form, example and kind), is read by
//! SQLAlchemy's `make_url` exactly as the input was (user, password, host, port, database) and
//! the same way by RFC 3986, holds user and password percent-encoded, and its redacted and
//! `.env.example` copies differ from it only in the password and the values of secret query
//! parameters; the redacted form is what `skillrun::secret::redact` makes of the URL; no error
//! message holds the URL's password.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use skillrun::Lang;
use skillrun::dburl::{Derived, Spec, derive};
use skillrun::registry::Derive;
use skillrun_fuzz::{assert_no_secret, passwords, rfc3986_userinfo, sqlalchemy};

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let registry = skillrun::skills::embedded().expect("embedded registry");
        let skill = registry.get("database-setup").expect("database-setup skill");
        skill.spec.derive.iter().map(|Derive::DatabaseUrl(spec)| spec.clone()).next().expect("a database-url step")
    })
}

/// A derived network URL cut into user, password, host, port, database and query. The userinfo
/// is percent-encoded, so the first `@` ends it.
struct Parts<'a> {
    user: Option<&'a str>,
    password: Option<&'a str>,
    host: &'a str,
    port: Option<&'a str>,
    database: Option<&'a str>,
    query: Option<&'a str>,
}

fn parts(url: &str) -> Parts<'_> {
    let rest = url.split_once("://").expect("a derived URL has a scheme").1;
    let (before_query, query) = rest.split_once('?').map_or((rest, None), |(b, q)| (b, Some(q)));
    let (authority, database) = before_query.split_once('/').map_or((before_query, None), |(a, d)| (a, Some(d)));
    let (userinfo, hostport) = authority.split_once('@').map_or((None, authority), |(u, h)| (Some(u), h));
    let (user, password) = match userinfo.map(|u| u.split_once(':')) {
        None => (None, None),
        Some(None) => (userinfo, None),
        Some(Some((u, p))) => (Some(u), Some(p)),
    };
    let (host, port) = if hostport.starts_with('[') {
        let end = hostport.find(']').expect("a bracketed host is closed") + 1;
        (&hostport[..end], hostport[end..].strip_prefix(':'))
    } else {
        hostport.rsplit_once(':').map_or((hostport, None), |(h, p)| (h, Some(p)))
    };
    Parts { user, password, host, port, database, query }
}

fn percent_encoded(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).all(|i| {
        b[i].is_ascii_alphanumeric()
            || b"-._~".contains(&b[i])
            || (b[i] == b'%' && b.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)))
    })
}

/// The input as the runtime reads it: trimmed, unquoted when it opened with a quote or `<`,
/// without a `jdbc:` prefix.
fn as_given(url: &str) -> &str {
    let quote = |c| c == '"' || c == '\'' || c == '<' || c == '>';
    let trimmed = url.trim();
    let unquoted = trimmed.trim_start_matches(quote).trim_start();
    let url = if unquoted.len() < trimmed.len() { unquoted.trim_end_matches(quote).trim_end() } else { trimmed };
    url.get(..5).filter(|p| p.eq_ignore_ascii_case("jdbc:")).map_or(url, |_| &url[5..])
}

fn check_derived(url: &str, d: &Derived) {
    let spec = spec();
    let dialect = &spec.dialects[&d.db_type];
    let full = d.url.expose();
    assert_eq!(d.driver, dialect.driver);
    assert!(full.starts_with(&format!("{}://", dialect.async_scheme)), "{url:?} -> {full:?}");
    assert_eq!(format!("{:?} {}", d.url, d.url), "Secret(***) ***");
    // Canonical: deriving again changes nothing.
    let again = derive(spec, full, Some(&d.db_type), Lang::En)
        .unwrap_or_else(|e| panic!("{url:?} -> {full:?}, which is refused: {}", e.message));
    assert_eq!(
        (&again.url, &again.url_redacted, &again.url_example, &again.db_type),
        (&d.url, &d.url_redacted, &d.url_example, &d.db_type),
        "{url:?}"
    );
    assert_eq!(again.rewritten_from, None);
    // The one redactor agrees with the derivation's own.
    assert_eq!(skillrun::secret::redact(full), d.url_redacted, "{url:?}");
    if dialect.file {
        assert_eq!((full, full), (d.url_redacted.as_str(), d.url_example.as_str()));
        return;
    }
    // SQLAlchemy reads the derived URL as it reads the input; RFC 3986 agrees on the userinfo.
    let given = sqlalchemy(as_given(url)).unwrap_or_else(|| panic!("{url:?} is accepted but SQLAlchemy cannot read it"));
    let read = sqlalchemy(full).unwrap_or_else(|| panic!("{url:?} -> {full:?}, which SQLAlchemy cannot read"));
    assert_eq!(given, read, "{url:?} -> {full:?}: SQLAlchemy reads them differently");
    assert_eq!(rfc3986_userinfo(full), (read.user.clone(), read.password.clone()), "{url:?} -> {full:?}");
    let p = parts(full);
    let r = parts(&d.url_redacted);
    let e = parts(&d.url_example);
    assert_eq!((p.user, p.host, p.port, p.database), (r.user, r.host, r.port, r.database), "{url:?}");
    assert_eq!((p.user, p.host, p.port, p.database), (e.user, e.host, e.port, e.database), "{url:?}");
    if let Some(user) = p.user {
        assert!(percent_encoded(user), "{url:?} -> user {user:?} is not percent-encoded");
    }
    match p.password {
        Some(pw) => {
            assert!(percent_encoded(pw), "{url:?} -> password {pw:?} is not percent-encoded");
            let (redacted, example) = if pw.is_empty() { ("", "") } else { ("***", spec.placeholder_password.as_str()) };
            assert_eq!((r.password, e.password), (Some(redacted), Some(example)), "{url:?}");
        }
        None => assert_eq!((r.password, e.password), (None, None), "{url:?}"),
    }
    // Query values under secret names are replaced, the rest is kept.
    let pairs = |q: Option<&str>| -> Vec<(String, String)> {
        q.unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').map_or((p.to_owned(), String::new()), |(k, v)| (k.to_owned(), v.to_owned())))
            .collect()
    };
    let (url_query, redacted_query, example_query) = (pairs(p.query), pairs(r.query), pairs(e.query));
    assert_eq!((url_query.len(), url_query.len()), (redacted_query.len(), example_query.len()), "{url:?}");
    for (((k, v), (rk, rv)), (ek, ev)) in url_query.iter().zip(&redacted_query).zip(&example_query) {
        assert_eq!((k, k), (rk, ek));
        let name = percent_encoding::percent_decode_str(k).decode_utf8_lossy();
        if skillrun::secret::is_secret_name(&name) && !v.is_empty() {
            assert_eq!((rv.as_str(), ev.as_str()), ("***", spec.placeholder_password.as_str()), "{url:?}");
        } else {
            assert_eq!((v, v), (rv, ev), "{url:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else { return };
    let spec = spec();
    let en = derive(spec, url, None, Lang::En);
    let ko = derive(spec, url, None, Lang::Ko);
    let secrets = passwords(url, url);
    match (&en, &ko) {
        (Ok(d), Ok(k)) => {
            assert_eq!(d, k, "the language changes the derivation of {url:?}");
            check_derived(url, d);
            for kind in spec.dialects.keys() {
                let named = derive(spec, url, Some(kind), Lang::En);
                if *kind == d.db_type {
                    assert_eq!(named.as_ref(), Ok(d), "naming the URL's own kind changes {url:?}");
                } else {
                    let e = named.expect_err("another kind than the URL's is refused");
                    assert_eq!(e.field, "/dbType");
                    assert_no_secret("a /dbType error", &e.message, &secrets, url);
                }
            }
        }
        (Err(e), Err(k)) => {
            assert_eq!(e.field, k.field);
            assert!(e.field == "/databaseUrl" || e.field == "/dbType", "{url:?}: field {}", e.field);
            assert!(!e.message.is_empty() && !k.message.is_empty());
            assert_no_secret("an English error", &e.message, &secrets, url);
            assert_no_secret("a Korean error", &k.message, &secrets, url);
        }
        _ => panic!("{url:?} is accepted in one language and refused in the other: {en:?} / {ko:?}"),
    }
});
