//! Secrets: passwords that need care in a URL (`@ % : /`, spaces, quotes, template syntax,
//! non-ASCII, common words) reach a real PostgreSQL login through the generated settings, given
//! raw (where the raw URL has one reading) or percent-encoded; a raw form that can be read two
//! ways is refused with the fix; no password or secret query value appears in any generated file
//! but `.env`, in the report, the answers file, a chat reply, an MCP result or a log line at any
//! level, even when the input is refused; and a password that is a common word garbles nothing.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{Test, ci, skip_unless_ci};

/// A group whose members PostgreSQL must check by password (scram-sha-256), whatever the
/// server's other rules say: the machine's server trusts every local login otherwise.
const GROUP: &str = "skillrun_password_auth";

const PASSWORDS: [&str; 15] = [
    "p@ss:w/rd",
    "pa/ss",
    "p?x",
    "100%sure",
    "with space",
    "pässwörd",
    "비밀번호123",
    "q'uo\"te\\",
    "{{ 7*7 }}{% raw %}",
    "${HOME}x$(id)`id`",
    "a#b?c&d=e;f",
    "%41%2F",
    "tab%09 and newline%0A",
    "postgres",
    "app",
];

/// Passwords that are also ordinary words of a project (paths, database kinds, user names).
const COMMON: [&str; 8] = ["postgres", "app", "test", "root", "localhost", "sqlite", "db", "user"];

/// Whether a raw password in a URL's userinfo makes it readable two ways (it is refused raw).
fn ambiguous(password: &str) -> bool {
    password.contains(['@', '/', '?', '#'])
}

fn psql(sql: &str, vars: &[(&str, &str)]) -> Result<String, String> {
    let mut cmd = Command::new("psql");
    cmd.args(["-X", "-q", "-At", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1"]);
    for (k, v) in vars {
        cmd.arg("-v").arg(format!("{k}={v}"));
    }
    cmd.env("PGCONNECT_TIMEOUT", "5").env_remove("PGPASSWORD");
    let mut child =
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
    child.stdin.take().unwrap().write_all(sql.as_bytes()).unwrap();
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Makes members of [`GROUP`] log in with a checked password: a pg_hba.conf rule ahead of the
/// others (added once, idempotent), and a reload.
fn require_password_auth() -> Result<(), String> {
    let hba = psql("SHOW hba_file;", &[])?;
    let text = std::fs::read_to_string(&hba).map_err(|e| format!("{hba}: {e}"))?;
    let rule = format!("host all +{GROUP} 127.0.0.1/32 scram-sha-256");
    if !text.lines().any(|l| l.trim() == rule) {
        std::fs::write(&hba, format!("# skillrun tests: members of {GROUP} must give their password\n{rule}\n{text}"))
            .map_err(|e| format!("{hba}: {e}"))?;
    }
    psql(
        &format!(
            "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{GROUP}') THEN CREATE ROLE {GROUP} NOLOGIN; END IF; END$$; SELECT pg_reload_conf();"
        ),
        &[],
    )?;
    Ok(())
}

/// `%XX` in a raw URL is read as an escape, so a password holding one is only given encoded.
fn has_escape(password: &str) -> bool {
    regex::Regex::new("%[0-9A-Fa-f]{2}").unwrap().is_match(password)
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() && u8::from_str_radix(&s[i + 1..i + 3], 16).is_ok() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn passwords_that_need_care_log_in_to_postgresql_through_the_generated_settings() {
    if let Err(why) = psql("SELECT 1;", &[]) {
        skip_unless_ci("secrets: PostgreSQL login", &format!("PostgreSQL at 127.0.0.1:5432 is unreachable ({why})"));
        return;
    }
    require_password_auth().unwrap_or_else(|e| panic!("cannot make PostgreSQL check passwords: {e}"));
    let venv = match crate::support::venv("e2e-sa21") {
        Ok(v) => v,
        Err(why) => {
            skip_unless_ci("secrets: PostgreSQL login", &why);
            return;
        }
    };
    let python = venv.join("bin/python");
    let checker = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/secrets/check_login.py");
    let mut checked = 0;
    for (i, given) in PASSWORDS.iter().enumerate() {
        // The password as PostgreSQL stores it: what the URL means once decoded.
        let password = if has_escape(given) { decode(given) } else { (*given).to_owned() };
        let role = format!("skillrun_pw_{}_{i}", std::process::id());
        psql(&format!("CREATE ROLE {role} LOGIN PASSWORD :'pw' IN ROLE {GROUP};"), &[("pw", &password)])
            .unwrap_or_else(|e| panic!("create role: {e}"));
        if ambiguous(given) && !has_escape(given) {
            // Raw, it can be read two ways: refused, naming the field and the fix.
            let t = Test::new().env("RUST_LOG", "trace");
            let ran = t.database_setup(&format!("postgresql://{role}:{given}@127.0.0.1:5432/test"), &[]).code(2);
            let error = &ran.json()["errors"][0];
            assert_eq!(error["field"], "/databaseUrl");
            assert!(error["message"].as_str().unwrap().contains("percent-encode"), "{error}");
            assert!(!ran.stdout.contains(given) && !ran.stderr.contains(given), "password #{i} echoed");
        }
        let mut forms: Vec<String> = vec![encode(given)];
        if !has_escape(given) && !ambiguous(given) && encode(given) != *given {
            forms.push(given.to_string());
        }
        if has_escape(given) {
            forms = vec![given.to_string()];
        }
        for form in forms {
            let t = Test::new().env("RUST_LOG", "trace");
            // A project path that itself holds quotes, template syntax and non-ASCII.
            let project = t.dir.path().join(format!("p {i} \"q'{{{{x}}}} 한"));
            std::fs::create_dir(&project).unwrap();
            std::fs::write(
                project.join("pyproject.toml"),
                "[project]\nname = \"api\"\nversion = \"0.1.0\"\ndependencies = []\n",
            )
            .unwrap();
            let url = format!("postgresql://{role}:{form}@127.0.0.1:5432/test");
            let input = serde_json::json!({"projectPath": project, "databaseUrl": url}).to_string();
            let ran =
                crate::support::run_command(t.command(["run", "database-setup", "--json", "--input", &input]), None);
            assert_eq!(ran.code, 0, "password #{i}: {}", ran.stderr);
            assert_no_secret(&password, &project, &ran.stdout, &ran.stderr, &format!("password #{i}"));
            let out = Command::new(&python)
                .arg(checker)
                .arg(&project)
                .arg(&role)
                .env("SKILLRUN_TEST_PASSWORD", &password)
                .output()
                .unwrap();
            assert!(
                out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
                "password #{i} ({}): {}{}",
                if form == *given { "raw" } else { "encoded" },
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
        let _ = psql(&format!("DROP ROLE IF EXISTS {role};"), &[]);
    }
    eprintln!("secrets: {checked} logins through generated settings");
    assert!(ci() || checked > 0);
}

/// Every URL in every file of the project but `.env`, and in the run's stdout and stderr, holds
/// `***`, `change-me` or the examples' `password` where a password goes; a password that is not a common word is nowhere
/// in them in any form.
#[track_caller]
fn assert_no_secret(password: &str, project: &std::path::Path, stdout: &str, stderr: &str, what: &str) {
    let mut files = Vec::new();
    walk(project, &mut files);
    assert!(files.iter().any(|(p, _)| p.ends_with(".skillrun/answers.json")), "{what}: an answers file is written");
    let mut texts: Vec<(String, String)> = files
        .into_iter()
        .filter(|(p, _)| !p.ends_with("/.env"))
        .map(|(p, b)| (p, String::from_utf8_lossy(&b).into_owned()))
        .collect();
    texts.push(("the report".into(), stdout.to_owned()));
    texts.push(("the log".into(), stderr.to_owned()));
    let forms = [password.to_owned(), encode(password)];
    for (name, text) in &texts {
        for shown in url_passwords(text) {
            // `password` is the templates' own example (`user:password@localhost`).
            assert!(
                matches!(shown.as_str(), "***" | "change-me" | "password"),
                "{what}: {name} shows the password {shown:?}"
            );
        }
        if !COMMON.contains(&password) {
            for form in &forms {
                assert!(!text.contains(form.as_str()), "{what}: the password is in {name}");
            }
        }
    }
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG") || stderr.contains("INFO"),
        "{what}: logs were captured"
    );
}

/// What stands where a password goes in each URL of `text` (`scheme://user:PASSWORD@`).
fn url_passwords(text: &str) -> Vec<String> {
    let userinfo = regex::Regex::new(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*:([^\s@]*)@").unwrap();
    userinfo.captures_iter(text).map(|c| c[1].to_owned()).collect()
}

fn walk(dir: &std::path::Path, out: &mut Vec<(String, Vec<u8>)>) {
    for item in std::fs::read_dir(dir).unwrap().flatten() {
        let path = item.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
}

#[test]
fn a_refused_url_never_shows_its_password() {
    for (url, field) in [
        ("postgresql://app:Sup3r-S3cret@localhost:99999/app", "/databaseUrl"),
        ("mysql://app:Sup3r-S3cret@localhost:3306", "/databaseUrl"),
        ("sqlite://app:Sup3r-S3cret@host/app.db", "/databaseUrl"),
    ] {
        let t = Test::new().env("RUST_LOG", "trace");
        let ran = t.database_setup(url, &[]);
        assert_eq!(ran.code, 2, "{url}: {}", ran.stdout);
        assert_eq!(ran.json()["errors"][0]["field"], field, "{}", ran.stdout);
        assert!(
            !ran.stdout.contains("Sup3r-S3cret") && !ran.stderr.contains("Sup3r-S3cret"),
            "{url}: {}{}",
            ran.stdout,
            ran.stderr
        );
    }
}

#[test]
fn control_characters_and_overlong_values_are_refused_with_the_field_named() {
    let long = format!("sqlite:///./{}.db", "a".repeat(3000));
    for (path, url, field, words) in [
        ("p", "sqlite:///./a\nb.db", "/databaseUrl", "control characters"),
        ("p", "postgresql://u:pw\u{1b}[2J@h/db", "/databaseUrl", "control characters"),
        ("p\nq", "sqlite:///./app.db", "/projectPath", "control characters"),
        ("p", long.as_str(), "/databaseUrl", "longer than 2048 characters"),
    ] {
        let t = Test::new();
        let input = serde_json::json!({"projectPath": t.dir.path().join(path), "databaseUrl": url}).to_string();
        let ran = t.args(["run", "database-setup", "--json", "--input", &input]).run();
        assert_eq!(ran.code, 2, "{}", ran.stdout);
        let error = &ran.json()["errors"][0];
        assert_eq!(error["field"], field, "{}", ran.stdout);
        assert!(error["message"].as_str().unwrap().contains(words), "{}", ran.stdout);
    }
}

/// Quotes, backslashes, `#`, `$`, spaces and template syntax anywhere in a URL stay inside the
/// `.env` value: the generated settings read back exactly the URL the skill derived, and a re-run
/// finds the file unchanged. `${` is refused (dotenv readers expand it even inside quotes).
#[test]
fn hostile_characters_in_a_url_stay_inside_the_env_value() {
    let venv = match crate::support::venv("e2e-sa21") {
        Ok(v) => v,
        Err(why) => {
            skip_unless_ci("secrets: .env round trip", &why);
            return;
        }
    };
    let cases = [
        ("sqlite:///./x\\", "sqlite+aiosqlite:///./x\\"),
        ("sqlite:///./a\\b'c\".db", "sqlite+aiosqlite:///./a\\b'c\".db"),
        ("sqlite:///./{{ 7*7 }} {% raw %}#x.db", "sqlite+aiosqlite:///./{{ 7*7 }} {% raw %}#x.db"),
        ("sqlite:///./$HOME $(id) `id`.db", "sqlite+aiosqlite:///./$HOME $(id) `id`.db"),
        (
            "postgresql://u@localhost/db?application_name=a'b\"c#d\\",
            "postgresql+asyncpg://u@localhost/db?application_name=a'b\"c#d\\",
        ),
        ("postgres://u@localhost/d\"b'$x", "postgresql+asyncpg://u@localhost/d\"b'$x"),
    ];
    for (url, expected) in cases {
        let t = Test::new();
        std::fs::create_dir(t.project()).unwrap();
        t.database_setup(url, &[]).code(0);
        let out = Command::new(venv.join("bin/python"))
            .args(["-c", "import json; from app.core.config import settings; print(json.dumps(settings.database_url))"])
            .current_dir(t.project())
            .output()
            .unwrap();
        assert!(out.status.success(), "{url}: {}", String::from_utf8_lossy(&out.stderr));
        let read: String = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(read, expected, "{url}: .env holds {:?}", t.read(".env"));
        let again = t.database_setup(url, &[]).code(0).json();
        assert!(again["files"].as_array().unwrap().iter().all(|f| f["action"] == "unchanged"), "{url}: {again}");
    }
    // A raw space in a server URL's database name is refused (percent-encode it), not cut off.
    let ran = Test::new().database_setup("postgres://u@localhost/d b", &[]).code(2);
    assert!(ran.json()["errors"][0]["message"].as_str().unwrap().contains("space"), "{}", ran.stdout);
    let t = Test::new();
    let ran = t.database_setup("sqlite:///./${HOME}.db", &[]).code(2);
    assert_eq!(ran.json()["errors"][0]["field"], "/databaseUrl");
    assert!(ran.json()["errors"][0]["message"].as_str().unwrap().contains("`${`"), "{}", ran.stdout);
}

/// A password that is a common word (`postgres`, `app`, `db`, ...) changes nothing in the report
/// (paths, dbType, diffs), the answers file or `.env.example` compared with a unique password,
/// and shows nowhere as a password; `.env` holds it.
#[test]
fn passwords_that_are_common_words_garble_nothing_and_show_nowhere() {
    let run = |password: &str| -> Vec<String> {
        let t = Test::new().env("RUST_LOG", "trace");
        // The project's own path holds the words too.
        let project = t.dir.path().join("postgres/app");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(project.join("requirements.txt"), "fastapi\n").unwrap();
        std::fs::write(project.join(".gitignore"), "app.db\n").unwrap();
        let url = format!("postgresql://postgres:{password}@localhost:5432/test?application_name=app");
        let input = serde_json::json!({"projectPath": project, "databaseUrl": url}).to_string();
        let run = |extra: &[&str]| {
            let mut cmd = t.command(["run", "database-setup", "--input", &input]);
            cmd.args(extra);
            crate::support::run_command(cmd, None).code(0)
        };
        let dry_json = run(&["--dry-run", "--json"]);
        let dry_text = run(&["--dry-run"]);
        let applied = run(&["--json"]);
        let read = |rel: &str| std::fs::read_to_string(project.join(rel)).unwrap();
        assert_eq!(
            read(".env"),
            format!("DATABASE_URL=postgresql+asyncpg://postgres:{password}@localhost:5432/test?application_name=app\n")
        );
        for ran in [&dry_json, &dry_text, &applied] {
            assert_no_secret(password, &project, &ran.stdout, &ran.stderr, password);
        }
        let tmp = t.dir.path().display().to_string();
        [dry_json.stdout, dry_text.stdout, applied.stdout, read(".skillrun/answers.json"), read(".env.example")]
            .iter()
            .map(|s| s.replace(&tmp, "<tmp>"))
            .collect()
    };
    let baseline = run("Bq7-unique-pw");
    assert!(baseline[0].contains("<tmp>/postgres/app") && baseline[2].contains("app/core/config.py"));
    assert!(
        baseline[3]
            .contains(r#""databaseUrl": "postgresql+asyncpg://postgres:***@localhost:5432/test?application_name=app""#)
    );
    for word in COMMON {
        let got = run(word);
        for (i, what) in ["dry-run report", "dry-run text", "report", "answers file", ".env.example"].iter().enumerate()
        {
            assert_eq!(got[i], baseline[i], "password {word:?}: the {what} differs");
        }
    }
}

/// Query parameters that carry secrets (`sslpassword`, a JDBC URL's `password`) are secrets in
/// every mode: never in the report (JSON or text), the answers file, `.env.example` (a
/// placeholder there; `sslkey`, a file path, is kept), a chat reply, an MCP result or a log line.
#[test]
fn secret_query_parameters_stay_secret_in_every_mode() {
    let secrets = ["Pw-q1-secret", "Ssl-q2-secret", "Jd-q4-secret"];
    let urls = [
        "postgresql://app:Pw-q1-secret@db:5432/app?sslpassword=Ssl-q2-secret&sslkey=/keys/client.key",
        "jdbc:postgresql://db:5432/app?user=app&password=Jd-q4-secret&sslpassword=Ssl-q2-secret&sslkey=/keys/client.key",
    ];
    let clean = |what: &str, text: &str| {
        for secret in secrets {
            assert!(!text.contains(secret), "{what} holds {secret}: {text}");
        }
    };
    let check_project = |project: &std::path::Path, url: &str| {
        let env = std::fs::read_to_string(project.join(".env")).unwrap();
        assert!(env.contains("sslpassword=Ssl-q2-secret"), "{url}: {env}");
        let example = std::fs::read_to_string(project.join(".env.example")).unwrap();
        assert!(example.contains("sslpassword=change-me&sslkey=/keys/client.key"), "{url}: {example}");
        clean(".env.example", &example);
        let mut files = Vec::new();
        walk(project, &mut files);
        for (path, bytes) in files.iter().filter(|(p, _)| !p.ends_with("/.env")) {
            clean(path, &String::from_utf8_lossy(bytes));
        }
    };
    for url in urls {
        // The command line, JSON and text, with every log level.
        for extra in [&["--json"][..], &[]] {
            let t = Test::new().env("RUST_LOG", "trace");
            let mut cmd = t.command(["run", "database-setup", "--input"]);
            cmd.arg(serde_json::json!({"projectPath": t.project(), "databaseUrl": url}).to_string()).args(extra);
            let ran = crate::support::run_command(cmd, None).code(0);
            clean("the report", &ran.stdout);
            clean("the log", &ran.stderr);
            assert!(ran.stderr.contains("INFO"), "logs were captured: {}", ran.stderr);
            check_project(&t.project(), url);
        }
        // A chat: the URL in the first message, then yes.
        let t = Test::new().env("RUST_LOG", "trace");
        let lines = format!(
            "{}\n{}\n",
            serde_json::json!({"text": format!("set up the database in {} with {url}", t.project().display())}),
            serde_json::json!({"text": "yes"})
        );
        let ran = t.run_with(&["chat", "--json"], &lines).code(0);
        assert!(ran.stdout.contains("\"step\":\"done\""), "{}", ran.stdout);
        clean("a chat reply", &ran.stdout);
        clean("the chat log", &ran.stderr);
        check_project(&t.project(), url);
        // An MCP tool call over stdio.
        let t = Test::new();
        let mut server = crate::mcp::Server::start_with(&[("RUST_LOG", "trace")]);
        server.initialize("2025-06-18");
        let result = server.call("database-setup", serde_json::json!({"projectPath": t.project(), "databaseUrl": url}));
        assert_eq!(result["structuredContent"]["status"], "applied", "{result}");
        clean("an MCP result", &result.to_string());
        let (_, stderr, _) = server.finish();
        clean("the MCP log", &stderr);
        check_project(&t.project(), url);
    }
}

/// Every log line goes through the redactor: a conversation id that holds a URL with a password
/// (the caller's own text, logged at debug) reaches the log redacted.
#[test]
fn log_lines_are_redacted_whatever_they_carry() {
    let t = Test::new().env("RUST_LOG", "debug");
    let line = serde_json::json!({"conversation": "postgresql://u:Log-s3cret-pw@h/db?token=Log-t0ken", "text": "DB 설정 해줘"});
    let ran = t.run_with(&["chat", "--json"], &format!("{line}\n")).code(0);
    assert!(ran.stderr.contains("postgresql://u:***@h/db?token=***"), "{}", ran.stderr);
    assert!(!ran.stderr.contains("Log-s3cret-pw") && !ran.stderr.contains("Log-t0ken"), "{}", ran.stderr);
}
