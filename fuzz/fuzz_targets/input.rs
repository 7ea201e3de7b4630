//! Input preparation of the database-setup skill (`skillrun::input::prepare`) and a dry run
//! through `skillrun::run`, on any bytes: JSON is taken as the input itself, anything else as
//! the `databaseUrl` of an otherwise valid input.
//!
//! Invariants: no panic; both languages agree on success and on the fields in error; a success
//! holds the derived values (`databaseUrl` with the async scheme of `dbType`, `dbDriver`,
//! `databaseUrlExample`, defaults); the context's `databaseUrl` is the full URL (kept aside as a
//! secret) redacted by `skillrun::secret::redact`; the input URL's password is in no context
//! value, no `Debug` print of the validated input, no error message, note or report.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use skillrun::registry::Registry;
use skillrun::{Lang, Request};
use skillrun_fuzz::{assert_no_secret, passwords};

const SKILL: &str = "database-setup";

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| skillrun::skills::embedded().expect("embedded registry"))
}

/// An empty project directory for the dry runs, removed at exit by the OS's temp cleaning.
fn project() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| tempfile::Builder::new().prefix("skillrun-fuzz-").tempdir().expect("temp dir").keep())
}

fuzz_target!(|data: &[u8]| {
    let input: Value = match serde_json::from_slice(data) {
        Ok(value) => value,
        Err(_) => json!({"projectPath": ".", "databaseUrl": String::from_utf8_lossy(data)}),
    };
    let text = input.to_string();
    let url = input.get("databaseUrl").and_then(Value::as_str).unwrap_or_default();
    let secrets = passwords(url, &text);
    let skill = registry().get(SKILL).expect("database-setup skill");

    let en = skillrun::input::prepare(skill, &input, Lang::En);
    let ko = skillrun::input::prepare(skill, &input, Lang::Ko);
    let valid = match (en, ko) {
        (Ok(en), Ok(ko)) => {
            assert_eq!(en.context, ko.context, "the language changes the context of {text}");
            assert_eq!(en.secrets, ko.secrets);
            en
        }
        (Err(en), Err(ko)) => {
            let fields =
                |errors: &[skillrun::input::FieldError]| errors.iter().map(|e| e.field.clone()).collect::<Vec<_>>();
            assert_eq!(fields(&en), fields(&ko), "the languages disagree on what is wrong with {text}");
            assert!(!en.is_empty());
            for e in en.iter().chain(&ko) {
                assert!(!e.message.is_empty());
                assert_no_secret("an input error", &e.message, &secrets, &text);
            }
            return;
        }
        (en, ko) => panic!("{text} is accepted in one language only: {:?} / {:?}", en.is_ok(), ko.is_ok()),
    };

    // The derived values are there and agree with each other.
    let context = &valid.context;
    let get =
        |name: &str| context.get(name).and_then(Value::as_str).unwrap_or_else(|| panic!("{name} missing: {text}"));
    let (db_type, db_url, example, driver) =
        (get("dbType"), get("databaseUrl"), get("databaseUrlExample"), get("dbDriver"));
    let async_scheme = match db_type {
        "postgresql" => "postgresql+asyncpg://",
        "mysql" => "mysql+aiomysql://",
        "sqlite" => "sqlite+aiosqlite://",
        other => panic!("dbType {other:?} is not a kind of the schema: {text}"),
    };
    assert!(db_url.starts_with(async_scheme) && example.starts_with(async_scheme), "{text} -> {db_url}");
    assert!(async_scheme.contains(driver), "driver {driver} for {db_type}");
    assert!(get("projectPath").len() >= 1);
    // The full URL is kept aside; the context, which may be shown, holds it redacted.
    let full = valid.secrets.get("databaseUrl").expect("the URL is a secret").expose();
    assert!(full.starts_with(async_scheme), "{text} -> {full}");
    assert_eq!(skillrun::secret::redact(full), db_url, "{text}");
    let context_text = serde_json::to_string(context).expect("a context serializes");
    assert_no_secret("the context", &context_text, &secrets, &text);
    assert_no_secret("the validated input's Debug", &format!("{valid:?}"), &secrets, &text);
    for note in &valid.notes {
        assert_no_secret("a note", note, &secrets, &text);
    }

    // A dry run into an empty directory: the report never holds the password.
    let mut run_input = input.clone();
    run_input["projectPath"] = json!(project().display().to_string());
    let request = Request { dry_run: true, lang: Some(Lang::En), ..Request::new(SKILL, run_input) };
    match skillrun::run(registry(), &request, &mut |_| true) {
        Ok(report) => {
            let json = serde_json::to_string(&report).expect("a report serializes");
            assert_no_secret("the report", &json, &secrets, &text);
            assert_no_secret("the report text", &report.to_text(), &secrets, &text);
        }
        Err(e) => assert_no_secret("a run error", &e.to_string(), &secrets, &text),
    }
});
