//! Database URL derivation (`skillrun::dburl::derive`) on any string.
//!
//! Invariants: no panic; the answer does not depend on the language, and naming the kind the URL
//! has changes nothing while naming another one is a `/dbType` error; a derived URL is canonical
//! (deriving it again gives the same URL, example, kind and no new secret), keeps the input's
//! host, port and database, holds the password only percent-encoded, and its `.env.example` copy
//! differs from it only where the password was; no error message holds the URL's password.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use skillrun::Lang;
use skillrun::dburl::{Derived, Spec, derive};
use skillrun::registry::Derive;
use skillrun_fuzz::{assert_no_secret, passwords};

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

const SECRET_KEYS: [&str; 5] = ["password", "passwd", "pwd", "secret", "token"];

fn check_derived(url: &str, d: &Derived) {
    let spec = spec();
    let dialect = &spec.dialects[&d.db_type];
    assert_eq!(d.driver, dialect.driver);
    assert!(d.url.starts_with(&format!("{}://", dialect.async_scheme)), "{url:?} -> {:?}", d.url);
    // Canonical: deriving again changes nothing and finds no secret that was not already known.
    let again = derive(spec, &d.url, Some(&d.db_type), Lang::En)
        .unwrap_or_else(|e| panic!("{url:?} -> {:?}, which is refused: {}", d.url, e.message));
    assert_eq!((&again.url, &again.url_example, &again.db_type), (&d.url, &d.url_example, &d.db_type), "{url:?}");
    assert_eq!(again.rewritten_from, None);
    for secret in &again.secrets {
        assert!(d.secrets.contains(secret), "{url:?}: a second pass finds a new secret {secret:?}");
    }
    if dialect.file {
        assert_eq!(d.url, d.url_example);
        assert!(d.secrets.is_empty());
        return;
    }
    let p = parts(&d.url);
    let e = parts(&d.url_example);
    // The input's host, port and database survive as written.
    for piece in [Some(p.host), p.port, p.database].into_iter().flatten() {
        assert!(url.contains(piece), "{url:?} -> {:?}: {piece:?} is not from the input", d.url);
    }
    assert_eq!((p.user, p.host, p.port, p.database), (e.user, e.host, e.port, e.database), "{url:?}");
    // The password: encoded in the URL, one of the secrets (decoded), the placeholder in the example.
    if let Some(user) = p.user {
        assert!(percent_encoded(user), "{url:?} -> user {user:?} is not percent-encoded");
    }
    match p.password {
        Some(pw) => {
            assert!(percent_encoded(pw), "{url:?} -> password {pw:?} is not percent-encoded");
            let decoded = percent_encoding::percent_decode_str(pw).decode_utf8_lossy();
            assert!(decoded.is_empty() || d.secrets.iter().any(|s| *s == decoded), "{url:?}: {decoded:?} not secret");
            assert_eq!(e.password, Some(spec.placeholder_password.as_str()), "{url:?}");
        }
        None => assert_eq!(e.password, None, "{url:?}"),
    }
    // Query values under secret keys are replaced in the example, the rest is kept.
    let pairs = |q: Option<&str>| -> Vec<(String, String)> {
        q.unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').map_or((p.to_owned(), String::new()), |(k, v)| (k.to_owned(), v.to_owned())))
            .collect()
    };
    let (url_query, example_query) = (pairs(p.query), pairs(e.query));
    assert_eq!(url_query.len(), example_query.len(), "{url:?}");
    for ((k, v), (ek, ev)) in url_query.iter().zip(&example_query) {
        assert_eq!(k, ek);
        if SECRET_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
            assert_eq!(ev, "change-me", "{url:?}");
        } else {
            assert_eq!(v, ev, "{url:?}");
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
