//! database-setup adopts the project it lands in: fixture projects (tests/fixtures/projects/,
//! each a tiny real-shaped FastAPI project) go through the CLI, and the report is then followed
//! as a user would (tests/adopt/follow_report.py: every command top to bottom, the project's own
//! app serving a request through the generated session dependency, the project's own tests), in
//! the pinned venv `.venv-adopt` (tests/requirements/adopt.txt), on SQLite, PostgreSQL and
//! MariaDB. An Alembic setup of the project's own is adopted (its env.py edited, its `versions/`
//! chain kept) on a database its own chain migrated first. Projects the skill must not touch
//! (pydantic v1, an engine of their own, an Alembic chain with several heads) are refused before
//! anything is written, with what to do.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::e2e::{PASSWORD_IN_URL, Server};
use crate::support::Test;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A copy of fixture `name` as the test's project.
pub(crate) fn fixture(name: &str) -> Test {
    let t = Test::new();
    copy(&Path::new(ROOT).join("tests/fixtures/projects").join(name), &t.project());
    t
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), target).unwrap();
        }
    }
}

fn run(t: &Test, url: &str) -> (i32, Value) {
    let ran = t.database_setup(url, &[]);
    let json = ran.json();
    (ran.code, json)
}

fn action(report: &Value, path: &str) -> Option<String> {
    report["files"].as_array()?.iter().find(|f| f["path"] == path).map(|f| f["action"].as_str().unwrap().to_owned())
}

fn commands(report: &Value) -> Vec<String> {
    report["commands"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect()
}

/// Follows the report in the pinned venv; panics with the log when a step fails.
fn follow(t: &Test, report: &Value, own_tests: bool) {
    follow_package(t, report, own_tests, "app", ".");
}

/// [`follow`] for generated code in `package`, imported from `app_dir`.
fn follow_package(t: &Test, report: &Value, own_tests: bool, package: &str, app_dir: &str) {
    follow_with(t, report, own_tests, ("adopt", package, app_dir), &[]);
}

/// The venv's tools first on PATH; `package` imported from `app_dir` (after the commands' `cd`),
/// the probe written into `probe_dir`.
fn follow_in(t: &Test, report: &Value, package: &str, app_dir: &str, probe_dir: &str) {
    follow_with(t, report, true, ("adopt", package, app_dir), &[("probe-dir", probe_dir)]);
}

/// [`follow`] with the tools of venv `venv` first on PATH; `env` pairs are set in the environment,
/// except `probe-dir`, an argument of the script.
fn follow_with(
    t: &Test,
    report: &Value,
    own_tests: bool,
    (venv, package, app_dir): (&str, &str, &str),
    env: &[(&str, &str)],
) {
    let venv = crate::support::venv(venv).unwrap_or_else(|why| panic!("{why}"));
    let report_file = t.dir.path().join("report.json");
    std::fs::write(&report_file, report.to_string()).unwrap();
    let mut cmd = Command::new(venv.join("bin/python"));
    cmd.arg(Path::new(ROOT).join("tests/adopt/follow_report.py"))
        .arg(t.project())
        .arg("--venv")
        .arg(&venv)
        .arg("--report")
        .arg(&report_file)
        .args(["--package", package, "--app-dir", app_dir])
        .env_remove("DATABASE_URL");
    for (key, value) in env {
        if *key == "probe-dir" {
            cmd.args(["--probe-dir", value]);
        } else {
            cmd.env(key, value);
        }
    }
    if !own_tests {
        cmd.arg("--no-own-tests");
    }
    let out = cmd.output().expect("run follow_report.py");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "following the report failed:\n{log}\nreport: {report:#}");
    println!("{log}");
}

/// A database URL for `server` (a fresh database), or `None` when it is unreachable outside CI.
fn database(server: Option<Server>) -> Option<(String, Option<crate::e2e::Database>)> {
    match server {
        None => Some(("sqlite:///./app.db".into(), None)),
        Some(Server::Postgres) => {
            let db = Server::Postgres.create("adopt")?;
            let url = format!("postgresql://{}:{PASSWORD_IN_URL}@127.0.0.1:5432/{}", db.user, db.name);
            Some((url, Some(db)))
        }
        Some(Server::MariaDb) => {
            let db = Server::MariaDb.create("adopt")?;
            let url = format!("mysql://{}:{PASSWORD_IN_URL}@127.0.0.1:3306/{}", db.user, db.name);
            Some((url, Some(db)))
        }
    }
}

// --- settings already present (app/core/config.py, pydantic-settings), requirements.txt ---

fn settings_present(server: Option<Server>) {
    let Some((url, _db)) = database(server) else { return };
    let t = fixture("settings-present");
    let (code, report) = run(&t, &url);
    assert_eq!(code, 0, "{report:#}");
    // The project's settings class gets the field; no second settings module.
    assert_eq!(action(&report, "app/core/config.py").as_deref(), Some("updated"), "{report:#}");
    let config = t.read("app/core/config.py");
    assert!(config.contains("    database_url: str  # async SQLAlchemy URL (DATABASE_URL)"), "{config}");
    assert!(config.contains("    project_name: str = \"Inventory\""), "{config}");
    let session = t.read("app/infrastructure/database/session.py");
    assert!(session.contains("from app.core.config import settings\n"), "{session}");
    let engine = [
        "create_async_engine(async_url(settings.database_url)",
        "create_async_engine(\n    async_url(settings.database_url),",
    ];
    assert!(engine.iter().any(|e| session.contains(e)), "{session}");
    let requirements = t.read("requirements.txt");
    assert!(requirements.starts_with("fastapi>=0.121\npydantic-settings>=2.2\nuvicorn>=0.30\n"), "{requirements}");
    let notes = report["notes"].to_string();
    assert!(notes.contains("requirements.txt: raised fastapi from >=0.110 to >=0.121"), "{notes}");
    assert_eq!(commands(&report)[0], "python -m pip install -r requirements.txt");
    follow(&t, &report, true);
    // A second run changes nothing.
    let (code, again) = run(&t, &url);
    assert_eq!(code, 0, "{again:#}");
    let files = again["files"].as_array().unwrap();
    assert!(files.iter().all(|f| f["action"] == "unchanged" || f["action"] == "skipped"), "{again:#}");
}

#[test]
fn settings_present_on_sqlite() {
    settings_present(None);
}

#[test]
fn settings_present_on_postgresql() {
    settings_present(Some(Server::Postgres));
}

#[test]
fn settings_present_on_mariadb() {
    settings_present(Some(Server::MariaDb));
}

// --- split requirements/ with a Dockerfile, an upper-case URL field already there ---

fn split_requirements(server: Option<Server>) {
    let Some((url, _db)) = database(server) else { return };
    let t = fixture("split-requirements");
    let (code, report) = run(&t, &url);
    assert_eq!(code, 0, "{report:#}");
    assert!(!t.project().join("requirements.txt").exists(), "a stray root requirements.txt");
    assert!(!t.project().join("app/core/config.py").exists(), "a second settings module");
    assert_eq!(action(&report, "app/config.py"), None, "{report:#}");
    let base = t.read("requirements/base.txt");
    // The floor is raised; the project's own upper bound stays.
    assert!(base.starts_with("# Runtime dependencies, shared by every environment.\nfastapi>=0.121,<1.0\n"), "{base}");
    let notes = report["notes"].to_string();
    assert!(notes.contains("requirements/base.txt: raised fastapi from >=0.100,<1.0 to >=0.121,<1.0"), "{notes}");
    assert!(base.contains("\nalembic>=") && base.contains("sqlalchemy[asyncio]>="), "{base}");
    assert_eq!(t.read("requirements/prod.txt"), "-r base.txt\nuvicorn>=0.30\n");
    assert_eq!(commands(&report)[0], "python -m pip install -r requirements/prod.txt");
    let session = t.read("app/infrastructure/database/session.py");
    assert!(session.contains("from app.config import config\n"), "{session}");
    assert!(session.contains("async_url(config.DATABASE_URL)"), "{session}");
    assert!(t.read(".env").contains("DATABASE_URL="));
    follow(&t, &report, true);
}

#[test]
fn split_requirements_on_sqlite() {
    split_requirements(None);
}

#[test]
fn split_requirements_on_postgresql() {
    split_requirements(Some(Server::Postgres));
}

#[test]
fn split_requirements_on_mariadb() {
    split_requirements(Some(Server::MariaDb));
}

// --- Poetry: table entries, the lock command of the lock's Poetry, `poetry run` ---

#[test]
fn poetry_dependencies_go_into_its_table() {
    let t = fixture("poetry");
    let (code, report) = run(&t, "sqlite:///./app.db");
    assert_eq!(code, 0, "{report:#}");
    assert!(!t.project().join("requirements.txt").exists(), "a stray requirements.txt");
    let pyproject = t.read("pyproject.toml");
    assert!(pyproject.contains("fastapi = \">=0.121\"\n"), "{pyproject}");
    assert!(
        pyproject.contains("sqlalchemy = { version = \">=2.0.30,<2.2\", extras = [\"asyncio\"] }\n"),
        "{pyproject}"
    );
    assert!(pyproject.contains("aiosqlite = \">=0.20\"\n\n[tool.poetry.group.dev.dependencies]"), "{pyproject}");
    let notes = report["notes"].to_string();
    assert!(notes.contains("raised fastapi from ^0.110.0 to >=0.121"), "{notes}");
    let commands = commands(&report);
    assert_eq!(commands[0], "poetry lock --no-update && poetry install", "{commands:?}");
    assert!(commands[1..].iter().all(|c| c.starts_with("poetry run alembic ")), "{commands:?}");
    // The settings module is new here (the project had none).
    assert_eq!(action(&report, "app/core/config.py").as_deref(), Some("created"));
}

/// The pinned Poetry locks the fixture (a Poetry 2 lock), the skill runs, and the report is
/// followed with that Poetry: `poetry lock && poetry install`, `poetry run alembic ...`, the app
/// and the project's tests under `poetry run`, the project's venv in the project.
#[test]
fn poetry_project_is_set_up_with_poetry() {
    let t = fixture("poetry");
    std::fs::remove_file(t.project().join("poetry.lock")).unwrap();
    let venv = crate::support::venv("poetry").unwrap_or_else(|why| panic!("{why}"));
    let pycache = t.dir.path().join("pycache");
    let poetry_env = [
        ("POETRY_VIRTUALENVS_IN_PROJECT", "true"),
        ("POETRY_NO_INTERACTION", "1"),
        ("PYTHONPYCACHEPREFIX", pycache.to_str().unwrap()),
    ];
    let lock = Command::new(venv.join("bin/poetry"))
        .arg("lock")
        .current_dir(t.project())
        .envs(poetry_env)
        .env_remove("VIRTUAL_ENV")
        .output()
        .unwrap();
    if !lock.status.success() {
        let why = format!("{}{}", String::from_utf8_lossy(&lock.stdout), String::from_utf8_lossy(&lock.stderr));
        crate::support::skip_unless_ci("adopt::poetry (poetry lock needs the package index)", &why);
        return;
    }
    assert!(t.read("poetry.lock").contains("@generated by Poetry 2."));
    let (code, report) = run(&t, "sqlite:///./app.db");
    assert_eq!(code, 0, "{report:#}");
    let commands = commands(&report);
    assert_eq!(commands[0], "poetry lock && poetry install", "{commands:?}");
    follow_with(&t, &report, true, ("poetry", "app", "."), &poetry_env);
    let lock = t.read("poetry.lock");
    assert!(lock.contains("name = \"aiosqlite\"") && lock.contains("name = \"alembic\""), "poetry.lock not updated");
}

// --- uv with its lock: `uv sync` and `uv run`, for real ---

#[test]
fn uv_project_is_set_up_with_uv() {
    let t = fixture("uv");
    let venv = crate::support::venv("adopt").unwrap_or_else(|why| panic!("{why}"));
    // The project's own lock, made by the pinned uv before the skill runs.
    let lock = Command::new(venv.join("bin/uv")).arg("lock").current_dir(t.project()).output().unwrap();
    if !lock.status.success() {
        let why = String::from_utf8_lossy(&lock.stderr).to_string();
        crate::support::skip_unless_ci("adopt::uv (uv lock needs the package index)", &why);
        return;
    }
    let (code, report) = run(&t, "sqlite:///./app.db");
    assert_eq!(code, 0, "{report:#}");
    let commands = commands(&report);
    assert_eq!(commands[0], "uv sync", "{commands:?}");
    assert!(commands[1..].iter().all(|c| c.starts_with("uv run alembic ")), "{commands:?}");
    let pyproject = t.read("pyproject.toml");
    assert!(pyproject.contains("\"fastapi>=0.121\",") && pyproject.contains("\"aiosqlite>=0.20\","), "{pyproject}");
    let pycache = t.dir.path().join("pycache");
    follow_with(&t, &report, true, ("adopt", "app", "."), &[("PYTHONPYCACHEPREFIX", pycache.to_str().unwrap())]);
    let lock = t.read("uv.lock");
    assert!(lock.contains("name = \"aiosqlite\"") && lock.contains("name = \"alembic\""), "uv.lock not updated");
}

// --- src/<pkg>/ layout: the code goes into the project's package, imported as it is ---

fn src_layout(server: Option<Server>) {
    let Some((url, _db)) = database(server) else { return };
    let t = fixture("src-layout");
    let (code, report) = run(&t, &url);
    assert_eq!(code, 0, "{report:#}");
    assert!(!t.project().join("app").exists(), "a second top-level app/");
    let session = t.read("src/shop/infrastructure/database/session.py");
    assert!(session.contains("from shop.config import settings\n"), "{session}");
    assert!(session.contains("from shop.infrastructure.database.models import Base\n"), "{session}");
    assert!(t.read("src/shop/config.py").contains("    database_url: str  #"));
    let ini = t.read("alembic.ini");
    assert!(ini.contains("script_location = %(here)s/src/shop/infrastructure/database/migrations\n"), "{ini}");
    assert!(ini.contains("prepend_sys_path = src\n"), "{ini}");
    follow_package(&t, &report, true, "shop", "src");
}

#[test]
fn src_layout_on_sqlite() {
    src_layout(None);
}

#[test]
fn src_layout_on_postgresql() {
    src_layout(Some(Server::Postgres));
}

#[test]
fn src_layout_on_mariadb() {
    src_layout(Some(Server::MariaDb));
}

// --- a package imported at the top (`PYTHONPATH=app`, `from core.config import ...`) ---

fn flat_app(server: Option<Server>) {
    let Some((url, _db)) = database(server) else { return };
    let t = fixture("flat-app");
    let (code, report) = run(&t, &url);
    assert_eq!(code, 0, "{report:#}");
    let session = t.read("app/infrastructure/database/session.py");
    assert!(session.contains("from core.config import settings\n"), "{session}");
    assert!(session.contains("from infrastructure.database.models import Base\n"), "{session}");
    assert!(!t.project().join("app/__init__.py").exists(), "app/ was made a package");
    assert!(t.read("alembic.ini").contains("prepend_sys_path = app\n"));
    follow_in(&t, &report, "", "app", "app");
}

#[test]
fn flat_app_on_sqlite() {
    flat_app(None);
}

#[test]
fn flat_app_on_postgresql() {
    flat_app(Some(Server::Postgres));
}

#[test]
fn flat_app_on_mariadb() {
    flat_app(Some(Server::MariaDb));
}

// --- a backend in a subdirectory, reading the repository's top-level .env ---

fn backend_subdir(server: Option<Server>) {
    let Some((url, _db)) = database(server) else { return };
    let t = fixture("backend-subdir");
    let (code, report) = run(&t, &url);
    assert_eq!(code, 0, "{report:#}");
    // The code, the migrations and the dependencies go into backend/; the URL into the .env the
    // settings read (../.env from backend/: the repository's top).
    assert!(t.project().join("backend/app/infrastructure/database/session.py").exists());
    assert!(t.project().join("backend/alembic.ini").exists());
    assert!(!t.project().join("app").exists() && !t.project().join("backend/.env").exists());
    assert!(t.read("backend/requirements.txt").contains("alembic>="));
    assert!(!t.project().join("requirements.txt").exists());
    let env = t.read(".env");
    assert!(env.starts_with("PROJECT_NAME=Tracker\nDATABASE_URL="), "{env}");
    assert!(t.read("backend/app/core/config.py").contains("    DATABASE_URL: str  #"));
    let commands = commands(&report);
    assert_eq!(commands[0], "cd backend && python -m pip install -r requirements.txt", "{commands:?}");
    assert!(commands[1..].iter().all(|c| c.starts_with("cd backend && alembic ")), "{commands:?}");
    follow_in(&t, &report, "app", ".", "backend");
}

#[test]
fn backend_subdir_on_sqlite() {
    backend_subdir(None);
}

#[test]
fn backend_subdir_on_postgresql() {
    backend_subdir(Some(Server::Postgres));
}

#[test]
fn backend_subdir_on_mariadb() {
    backend_subdir(Some(Server::MariaDb));
}

// --- .env: the same database in another spelling is unchanged, and it works as it is ---

#[test]
fn env_with_the_same_database_in_a_sync_spelling_is_unchanged_on_postgresql() {
    let Some((url, _db)) = database(Some(Server::Postgres)) else { return };
    let t = fixture("settings-present");
    // The project's own .env, written for a sync driver with libpq's sslmode.
    let env = format!("DEBUG=false\nDATABASE_URL={url}?sslmode=disable\n");
    t.write(".env", &env).write(".gitignore", ".env\n");
    let asyncpg = url.replacen("postgresql://", "postgresql+asyncpg://", 1) + "?ssl=disable";
    let (code, report) = run(&t, &asyncpg);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(action(&report, ".env").as_deref(), Some("unchanged"), "{report:#}");
    assert_eq!(t.read(".env"), env);
    follow(&t, &report, true);
}

// --- .env.example: a placeholder stays a placeholder ---

#[test]
fn env_example_placeholders_stay() {
    let t = fixture("settings-present");
    let example = "# Copy to .env\nDATABASE_URL=postgresql://user:password@localhost:5432/inventory\n";
    t.write(".env.example", example);
    let (code, report) = run(&t, "sqlite:///./app.db");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(action(&report, ".env.example").as_deref(), Some("unchanged"), "{report:#}");
    assert_eq!(t.read(".env.example"), example);
    assert_eq!(t.read(".env"), "DATABASE_URL=sqlite+aiosqlite:///./app.db\n");
}

// --- refused before anything is written ---

#[test]
fn pydantic_v1_is_refused_before_writing() {
    let t = fixture("pydantic-v1");
    let before = t.snapshot();
    let (code, report) = run(&t, "sqlite:///./app.db");
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(report["status"], "invalid");
    let message = report["message"].as_str().unwrap();
    assert!(
        message.contains("app/config.py") && message.contains("pydantic v1") && message.contains("Nothing was written"),
        "{message}"
    );
    assert_eq!(t.snapshot(), before);
}

#[test]
fn an_alembic_setup_that_cannot_be_adopted_is_refused_before_writing() {
    let refused = |t: &Test| {
        let before = t.snapshot();
        let (code, report) = run(t, "sqlite:///./app.db");
        assert_eq!(code, 2, "{report:#}");
        assert_eq!(t.snapshot(), before);
        report["message"].as_str().unwrap().to_owned()
    };
    // Two heads: a revision branching off the first one beside the project's second.
    let t = fixture("alembic-async");
    let second = t.read("migrations/versions/8b7e6d5c4a3f_item_description_and_name_index.py");
    t.write("migrations/versions/c0ffee000001_tags.py", &second.replace("8b7e6d5c4a3f", "c0ffee000001"));
    let message = refused(&t);
    assert!(
        message.starts_with("The Alembic migrations in migrations have 2 heads (8b7e6d5c4a3f, c0ffee000001)"),
        "{message}"
    );
    assert!(message.contains("alembic merge heads") && message.contains("Nothing was written"), "{message}");
    // A down_revision that is not there: a broken chain.
    let t = fixture("alembic-async");
    std::fs::remove_file(t.project().join("migrations/versions/3f2a9c1d4b5e_create_items_table.py")).unwrap();
    let message = refused(&t);
    assert!(message.contains("name a down_revision that is not there (3f2a9c1d4b5e)"), "{message}");
    // target_metadata = None over hand-written revisions: autogenerate would drop the project's tables.
    let t = fixture("alembic-async");
    let env = t.read("migrations/env.py").replace("target_metadata = Base.metadata", "target_metadata = None");
    t.write("migrations/env.py", &env);
    let message = refused(&t);
    assert!(message.starts_with("migrations/env.py sets target_metadata = None"), "{message}");
    assert!(message.contains("propose dropping every table of yours"), "{message}");
    // No top-level target_metadata to point at the models.
    let t = fixture("alembic-async");
    let env = t.read("migrations/env.py").replace("target_metadata = Base.metadata\n", "");
    t.write("migrations/env.py", &env);
    let message = refused(&t);
    assert!(message.starts_with("migrations/env.py has no single top-level `target_metadata = ...`"), "{message}");
}

#[test]
fn a_sync_sqlalchemy_stack_is_refused_before_writing() {
    let t = fixture("sqlalchemy-sync");
    let before = t.snapshot();
    let (code, report) = run(&t, "sqlite:///./app.db");
    assert_eq!(code, 2, "{report:#}");
    let message = report["message"].as_str().unwrap();
    assert!(message.starts_with("app/db.py already makes a sync SQLAlchemy engine"), "{message}");
    assert_eq!(t.snapshot(), before);
}

/// The settings' `env_file` decides where the URL goes: a file inside the project gets it; one
/// outside (a backend in a subdirectory reading `../.env`) cannot, and the report says what to do.
#[test]
fn the_url_goes_to_the_env_file_the_settings_read() {
    let t = fixture("settings-present");
    let config = t.read("app/core/config.py").replace("env_file=\".env\"", "env_file=\"config/app.env\"");
    t.write("app/core/config.py", &config);
    let (code, report) = run(&t, "sqlite:///./app.db");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(t.read("config/app.env"), "DATABASE_URL=sqlite+aiosqlite:///./app.db\n");
    assert!(!t.project().join(".env").exists());

    let t = fixture("settings-present");
    let config = t.read("app/core/config.py").replace("env_file=\".env\"", "env_file=\"../.env\"");
    t.write("app/core/config.py", &config);
    let (code, report) = run(&t, "sqlite:///./app.db");
    assert_eq!(code, 0, "{report:#}");
    let notes = report["notes"].to_string();
    assert!(notes.contains("app/core/config.py reads ../.env, outside this project directory"), "{notes}");
    assert!(t.read(".env").contains("DATABASE_URL="));
}

// --- an Alembic setup of the project's own: adopted, its versions/ chain kept ---

/// The head of the alembic fixtures' own chain.
const PROJECT_HEAD: &str = "8b7e6d5c4a3f";

/// `url` in the driver form a project's ini holds (async or sync), `%` doubled for configparser.
fn ini_url(url: &str, is_async: bool) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let scheme = match (scheme, is_async) {
        ("sqlite", true) => "sqlite+aiosqlite",
        ("postgresql", true) => "postgresql+asyncpg",
        ("postgresql", false) => "postgresql+psycopg",
        ("mysql", true) => "mysql+aiomysql",
        ("mysql", false) => "mysql+pymysql",
        (other, _) => other,
    };
    let query = if scheme.starts_with("mysql") { "?charset=utf8mb4" } else { "" };
    format!("{scheme}://{rest}{query}").replace('%', "%%")
}

/// Runs the venv's `program` in the project (no DATABASE_URL in the environment); its output, or
/// a panic with it.
fn venv_run(t: &Test, program: &str, args: &[&str]) -> String {
    let venv = crate::support::venv("adopt").unwrap_or_else(|why| panic!("{why}"));
    let out = Command::new(venv.join("bin").join(program))
        .args(args)
        .current_dir(t.project())
        .env_remove("DATABASE_URL")
        .env_remove("VIRTUAL_ENV")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{program} {args:?} failed:\n{log}");
    log
}

/// Fixture `name` (its migrations in `dir`, env.py async or not) deployed on `server` with its own
/// chain, then database-setup, then its report followed; the undo goes back to the project's head.
fn alembic_adopted(name: &str, dir: &str, is_async: bool, server: Option<Server>) {
    let Some((url, _db)) = database(server) else { return };
    let t = fixture(name);
    // The project as deployed: its ini names the database, migrated by its own chain.
    let ini = t.read("alembic.ini");
    let line = ini.lines().find(|l| l.starts_with("sqlalchemy.url = ")).unwrap();
    t.write("alembic.ini", &ini.replace(line, &format!("sqlalchemy.url = {}", ini_url(&url, is_async))));
    venv_run(&t, "alembic", &["upgrade", "head"]);
    let env_py = format!("{dir}/env.py");
    let env_before = t.read(&env_py);

    let (code, report) = run(&t, &url);
    assert_eq!(code, 0, "{report:#}");
    // No second Alembic: the project's ini, env.py and versions/ are the ones used.
    assert!(!t.project().join("app/infrastructure/database/migrations").exists(), "a second migrations dir");
    assert_eq!(action(&report, "alembic.ini"), None, "{report:#}");
    assert_eq!(action(&report, &env_py).as_deref(), Some("updated"), "{report:#}");
    let env = t.read(&env_py);
    assert!(env.contains("\ntarget_metadata = [Base.metadata, DatabaseBase.metadata]\n"), "{env}");
    assert!(env.contains("\nfrom app.infrastructure.database.models import Base as DatabaseBase\n"), "{env}");
    let to = if is_async { "async_url" } else { "sync_url" };
    let set_url = format!("config.set_main_option(\"sqlalchemy.url\", ini_url({to}(settings.database_url)))");
    assert!(env.contains(&format!("\nconfig = context.config\n{set_url}\n")), "{env}");
    let names = if is_async { "async_url, ini_url" } else { "ini_url, sync_url" };
    assert!(env.contains(&format!("\nfrom app.infrastructure.database.url import {names}\n")), "{env}");
    assert!(env.contains("\nfrom app.core.config import settings\n"), "{env}");
    // Every other line of the project's env.py is kept.
    let lines: std::collections::BTreeSet<&str> = env.lines().collect();
    let lost: Vec<&str> =
        env_before.lines().filter(|l| !l.starts_with("target_metadata") && !lines.contains(l)).collect();
    assert!(lost.is_empty(), "lines of env.py lost: {lost:?}\n{env}");
    let reason = report["files"].as_array().unwrap().iter().find(|f| f["path"] == env_py.as_str()).unwrap()["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("replaced `target_metadata = Base.metadata` with"), "{reason}");
    assert!(reason.contains(&format!("added `{set_url}` after `config = context.config`")), "{reason}");
    let notes = report["notes"].to_string();
    assert!(
        notes.contains(&format!("Your Alembic setup is kept ({dir}, 2 revision files, head {PROJECT_HEAD})")),
        "{notes}"
    );
    assert!(notes.contains("the sqlalchemy.url of alembic.ini is no longer read"), "{notes}");
    let requirements = t.read("requirements.txt");
    let sync_driver = match (server, is_async) {
        (Some(Server::Postgres), false) => Some("psycopg[binary]>="),
        (Some(Server::MariaDb), false) => Some("pymysql>="),
        _ => None,
    };
    assert_eq!(sync_driver.is_some_and(|d| requirements.contains(d)), sync_driver.is_some(), "{requirements}");
    assert!(!requirements.contains("psycopg") || sync_driver.is_some(), "{requirements}");
    let commands = commands(&report);
    assert!(commands.contains(&"alembic revision --autogenerate -m \"Add the database-setup models\"".to_owned()));
    assert_eq!(commands.last().map(String::as_str), Some("alembic downgrade -1"), "{commands:?}");

    follow(&t, &report, true);

    // The new revision follows the project's head and creates the new table only.
    let versions = t.project().join(dir).join("versions");
    let new: Vec<String> = std::fs::read_dir(&versions)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with("add_the_database_setup_models.py"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert_eq!(new.len(), 1, "one new revision in {}", versions.display());
    let revision = &new[0];
    assert!(
        revision.contains(&format!("down_revision: Union[str, Sequence[str], None] = '{PROJECT_HEAD}'"))
            || revision.contains(&format!("down_revision: Union[str, Sequence[str], None] = \"{PROJECT_HEAD}\"")),
        "{revision}"
    );
    assert_eq!(revision.matches("op.create_table(").count(), 1, "{revision}");
    assert!(revision.contains("'users'") || revision.contains("\"users\""), "{revision}");
    assert!(!revision.contains("items"), "the project's table in the new revision:\n{revision}");

    // A second run changes nothing.
    let (code, again) = run(&t, &url);
    assert_eq!(code, 0, "{again:#}");
    let files = again["files"].as_array().unwrap();
    assert!(files.iter().all(|f| f["action"] == "unchanged" || f["action"] == "skipped"), "{again:#}");
    let notes = again["notes"].to_string();
    assert!(notes.contains("target_metadata already holds the Base.metadata"), "{notes}");

    // The undo goes back to the project's head, its table and rows kept.
    venv_run(&t, "alembic", &["downgrade", "-1"]);
    let current = venv_run(&t, "alembic", &["current"]);
    assert!(current.contains(PROJECT_HEAD), "{current}");
    let check = "from sqlalchemy import create_engine, inspect\n\
        from app.core.config import settings\n\
        from app.infrastructure.database.url import sync_url\n\
        names = inspect(create_engine(sync_url(settings.database_url))).get_table_names()\n\
        assert 'items' in names and 'users' not in names, names\n";
    venv_run(&t, "python", &["-c", check]);
}

#[test]
fn alembic_async_is_adopted_on_sqlite() {
    alembic_adopted("alembic-async", "migrations", true, None);
}

#[test]
fn alembic_async_is_adopted_on_postgresql() {
    alembic_adopted("alembic-async", "migrations", true, Some(Server::Postgres));
}

#[test]
fn alembic_async_is_adopted_on_mariadb() {
    alembic_adopted("alembic-async", "migrations", true, Some(Server::MariaDb));
}

#[test]
fn alembic_sync_is_adopted_on_sqlite() {
    alembic_adopted("alembic-sync", "alembic", false, None);
}

#[test]
fn alembic_sync_is_adopted_on_postgresql() {
    alembic_adopted("alembic-sync", "alembic", false, Some(Server::Postgres));
}

#[test]
fn alembic_sync_is_adopted_on_mariadb() {
    alembic_adopted("alembic-sync", "alembic", false, Some(Server::MariaDb));
}

/// A fresh `alembic init` (target_metadata = None, no revision yet) with its ini one directory
/// down: the models alone become the metadata, and every command names the ini (`-c`).
#[test]
fn alembic_with_its_ini_elsewhere_and_no_revision_yet_is_adopted_on_sqlite() {
    let t = fixture("alembic-async");
    let ini = t.read("alembic.ini").replace("%(here)s/migrations", "%(here)s/../migrations");
    std::fs::remove_file(t.project().join("alembic.ini")).unwrap();
    t.write("config/alembic.ini", &ini.replace("sqlite+aiosqlite:///./catalog.db", "sqlite+aiosqlite:///./app.db"));
    for entry in std::fs::read_dir(t.project().join("migrations/versions")).unwrap().flatten() {
        std::fs::remove_file(entry.path()).unwrap();
    }
    let env = t.read("migrations/env.py").replace("\nfrom app.models import Base\n", "\n");
    t.write("migrations/env.py", &env.replace("target_metadata = Base.metadata", "target_metadata = None"));
    let (code, report) = run(&t, "sqlite:///./app.db");
    assert_eq!(code, 0, "{report:#}");
    assert!(t.read("migrations/env.py").contains("\ntarget_metadata = DatabaseBase.metadata\n"));
    let commands = commands(&report);
    assert!(commands[1..].iter().all(|c| c.starts_with("alembic -c config/alembic.ini ")), "{commands:?}");
    let notes = report["notes"].to_string();
    assert!(notes.contains("Your Alembic setup is kept (migrations, 0 revision files)"), "{notes}");
    assert!(notes.contains("The next revision follows an empty history"), "{notes}");
    follow(&t, &report, true);
}

// --- a URL field computed from parts (POSTGRES_*): used as it is, no DATABASE_URL written ---

#[test]
fn a_computed_url_field_is_used_as_it_is_on_postgresql() {
    let Some((url, Some(db))) = database(Some(Server::Postgres)) else { return };
    let t = fixture("settings-computed");
    // The project's own configuration: the parts, in the .env its settings read.
    let env = format!(
        "POSTGRES_SERVER=127.0.0.1\nPOSTGRES_USER={}\nPOSTGRES_PASSWORD='{}'\nPOSTGRES_DB={}\n",
        db.user,
        crate::e2e::PASSWORD,
        db.name
    );
    t.write(".env", &env);
    let (code, report) = run(&t, &url);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(t.read(".env"), env, "the project's parts stay as they are");
    assert_eq!(action(&report, ".env"), None, "{report:#}");
    assert!(!t.read("app/core/config.py").contains("database_url"), "a field was added beside the computed one");
    let session = t.read("app/infrastructure/database/session.py");
    assert!(session.contains("create_async_engine(async_url(settings.SQLALCHEMY_DATABASE_URI)"), "{session}");
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("app/core/config.py builds SQLALCHEMY_DATABASE_URI from parts (a computed property)"),
        "{notes}"
    );
    assert!(notes.contains("no SQLALCHEMY_DATABASE_URI was written to .env"), "{notes}");
    follow(&t, &report, true);
}

/// An env.py that sets its URL itself keeps doing so: only target_metadata changes, and a note
/// says the URL was left to it.
#[test]
fn an_alembic_env_that_sets_its_own_url_keeps_it() {
    let t = fixture("alembic-async");
    let env = t.read("migrations/env.py").replace(
        "config = context.config\n",
        "config = context.config\nconfig.set_main_option(\"sqlalchemy.url\", os.environ[\"CATALOG_DB\"])\n",
    );
    t.write("migrations/env.py", &env.replace("import asyncio\n", "import asyncio\nimport os\n"));
    let (code, report) = run(&t, "sqlite:///./app.db");
    assert_eq!(code, 0, "{report:#}");
    let after = t.read("migrations/env.py");
    assert!(after.contains("\ntarget_metadata = [Base.metadata, DatabaseBase.metadata]\n"), "{after}");
    assert_eq!(after.matches("set_main_option(").count(), 1, "{after}");
    assert!(!after.contains("ini_url"), "{after}");
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("migrations/env.py picks its database URL itself, so that part was left as it is"),
        "{notes}"
    );
}
