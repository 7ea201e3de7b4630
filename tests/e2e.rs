//! End to end: `skillrun run database-setup` generates a project, then the project runs for
//! real under `tests/e2e/check_project.py` (ruff, the whole Alembic cycle, a FastAPI app
//! served by uvicorn and spoken to over HTTP), on SQLite, PostgreSQL and MariaDB, with
//! SQLAlchemy 2.1 and 2.0. Each test makes its own database and drops it afterwards.
//!
//! The Python venvs come from `scripts/venv.sh` (pinned `tests/requirements/*.txt`).
//! PostgreSQL is expected at 127.0.0.1:5432 (user postgres, trust) and MariaDB at
//! 127.0.0.1:3306 (root, no password). A database that cannot be reached fails the test
//! when `CI=true`, and is skipped with a loud line otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::support::{BIN, skip_unless_ci};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The password of the database users the server tests create: `%`, `@` and `#` must
/// survive the URL, `.env`, the settings and Alembic (no configparser interpolation).
pub(crate) const PASSWORD: &str = "e2e%pw@x#1";
pub(crate) const PASSWORD_IN_URL: &str = "e2e%25pw%40x%231";

#[test]
fn sqlite_on_sqlalchemy_2_1() {
    sqlite("e2e-sa21");
}

#[test]
fn sqlite_on_sqlalchemy_2_0() {
    sqlite("e2e-sa20");
}

#[test]
fn postgresql_on_sqlalchemy_2_1() {
    postgresql("e2e-sa21");
}

#[test]
fn postgresql_on_sqlalchemy_2_0() {
    postgresql("e2e-sa20");
}

#[test]
fn mariadb_on_sqlalchemy_2_1() {
    mariadb("e2e-sa21");
}

#[test]
fn mariadb_on_sqlalchemy_2_0() {
    mariadb("e2e-sa20");
}

fn postgresql(venv: &str) {
    let Some(db) = Server::Postgres.create("pg") else {
        return;
    };
    let url = format!("postgresql://{}:{PASSWORD_IN_URL}@127.0.0.1:5432/{}", db.user, db.name);
    generate_and_check(venv, &url, "postgresql");
}

fn mariadb(venv: &str) {
    let Some(db) = Server::MariaDb.create("my") else {
        return;
    };
    let url = format!("mysql://{}:{PASSWORD_IN_URL}@127.0.0.1:3306/{}", db.user, db.name);
    generate_and_check(venv, &url, "mysql");
}

fn sqlite(venv: &str) {
    generate_and_check(venv, "sqlite:///./app.db", "sqlite");
}

/// Generates a project for `url` in a fresh temp dir and runs the checker on it.
fn generate_and_check(venv_name: &str, url: &str, db_type: &str) {
    let venv = venv(venv_name);
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("project");
    generate(&project, url, db_type);

    let started = Instant::now();
    let out = Command::new(venv.join("bin/python"))
        .arg(Path::new(ROOT).join("tests/e2e/check_project.py"))
        .arg(&project)
        .arg("--venv")
        .arg(&venv)
        .arg("--mypy-cache")
        .arg(mypy_cache())
        .env_remove("DATABASE_URL")
        .output()
        .expect("run check_project.py");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "e2e check of {db_type} on {venv_name} failed:\n{log}");
    println!("{db_type} on {venv_name}: checked in {:.1?}\n{log}", started.elapsed());
}

fn generate(project: &Path, url: &str, db_type: &str) {
    let input = serde_json::json!({"projectPath": project, "databaseUrl": url, "dbType": db_type});
    let out = Command::new(BIN)
        .args(["run", "database-setup", "--input", &input.to_string(), "--json"])
        .env_remove("SKILLRUN_SKILLS_DIR")
        .env_remove("SKILLRUN_LANG")
        .output()
        .expect("run skillrun");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "skillrun run failed:\n{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("report is JSON");
    assert_eq!(report["status"], "applied", "{stdout}");
    for secret in [PASSWORD, PASSWORD_IN_URL] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "the report shows the password:\n{stdout}\n{stderr}"
        );
    }
}

/// Where the checkers keep mypy's caches of the libraries, one per venv and set of flags, each
/// made by the first check that needs it and copied for the others (tests/e2e/check_project.py
/// says why every project is still checked in full). Under the build's own target directory.
fn mypy_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("mypy-cache")
}

/// `scripts/venv.sh NAME tests/requirements/NAME.txt`: the venv's path (built once, reused).
fn venv(name: &str) -> PathBuf {
    crate::support::venv(name).unwrap_or_else(|why| panic!("{why}"))
}

#[derive(Clone, Copy)]
pub(crate) enum Server {
    Postgres,
    MariaDb,
}

/// A database and its owner, made for one test and dropped when it ends (pass or panic).
pub(crate) struct Database {
    server: Server,
    pub(crate) name: String,
    pub(crate) user: String,
}

impl Server {
    fn label(self) -> &'static str {
        match self {
            Server::Postgres => "PostgreSQL at 127.0.0.1:5432",
            Server::MariaDb => "MariaDB at 127.0.0.1:3306",
        }
    }

    /// Runs SQL as the superuser; the error holds the client's output.
    fn sql(self, sql: &str) -> Result<(), String> {
        let mut cmd = match self {
            Server::Postgres => {
                let mut c = Command::new("psql");
                c.args([
                    "-X",
                    "-q",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-c",
                    sql,
                ]);
                c.env("PGCONNECT_TIMEOUT", "5").env_remove("PGPASSWORD");
                c
            }
            Server::MariaDb => {
                let mut c = Command::new("mariadb");
                c.args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "--connect-timeout=5", "-e", sql]);
                c
            }
        };
        match cmd.output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A fresh database and a user with [`PASSWORD`] that owns it, or `None` (skip) when
    /// the server cannot be reached outside CI.
    pub(crate) fn create(self, kind: &str) -> Option<Database> {
        if let Err(why) = self.sql("SELECT 1") {
            skip_unless_ci(&format!("e2e on {}", self.label()), &format!("unreachable ({why})"));
            return None;
        }
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let id = format!("{}_{nanos}", std::process::id());
        let db = Database { server: self, name: format!("skillrun_e2e_{kind}_{id}"), user: format!("skillrun_{id}") };
        let setup = match self {
            Server::Postgres => vec![
                format!("CREATE ROLE {} LOGIN PASSWORD '{PASSWORD}'", db.user),
                format!("CREATE DATABASE {} OWNER {}", db.name, db.user),
            ],
            Server::MariaDb => vec![format!(
                "CREATE DATABASE {0} CHARACTER SET utf8mb4; CREATE USER '{1}'@'%' IDENTIFIED BY '{PASSWORD}'; \
                 CREATE USER '{1}'@'localhost' IDENTIFIED BY '{PASSWORD}'; \
                 GRANT ALL ON {0}.* TO '{1}'@'%'; GRANT ALL ON {0}.* TO '{1}'@'localhost'",
                db.name, db.user
            )],
        };
        for sql in setup {
            self.sql(&sql).unwrap_or_else(|e| panic!("{}: {sql}\n{e}", self.label()));
        }
        Some(db)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let cleanup = match self.server {
            Server::Postgres => vec![
                format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
                format!("DROP ROLE IF EXISTS {}", self.user),
            ],
            Server::MariaDb => vec![format!(
                "DROP DATABASE IF EXISTS {0}; DROP USER IF EXISTS '{1}'@'%'; DROP USER IF EXISTS '{1}'@'localhost'",
                self.name, self.user
            )],
        };
        for sql in cleanup {
            if let Err(e) = self.server.sql(&sql) {
                eprintln!("cleanup of {} failed: {sql}\n{e}", self.server.label());
            }
        }
    }
}

// repository-pattern on top of database-setup: two entities (Post references Author), then
// tests/e2e/check_repositories.py (ruff, mypy --strict, Alembic, HTTP through the repositories).

/// Author's and Post's input (every field type of the documented set is used once).
fn entities(project: &Path) -> [serde_json::Value; 2] {
    let author = serde_json::json!({"projectPath": project, "entity": "Author", "fields": [
        {"name": "name", "type": "str", "maxLength": 100, "unique": true},
        {"name": "email", "type": "str", "optional": true, "indexed": true},
        {"name": "born", "type": "date", "optional": true},
        {"name": "rating", "type": "float", "default": 0.0},
        {"name": "balance", "type": "decimal", "default": "1.50"},
        {"name": "active", "type": "bool", "default": true},
        {"name": "ext_id", "type": "uuid", "optional": true, "unique": true},
        {"name": "profile", "type": "json", "optional": true}
    ]});
    let post = serde_json::json!({"projectPath": project, "entity": "Post", "fields": [
        {"name": "title", "type": "str", "maxLength": 200, "indexed": true},
        {"name": "body", "type": "text"},
        {"name": "views", "type": "int", "default": 0},
        {"name": "published_at", "type": "datetime", "optional": true},
        {"name": "author_id", "type": "int", "references": "Author"}
    ]});
    [author, post]
}

fn run_skill(skill: &str, input: &serde_json::Value) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(["run", skill, "--input", &input.to_string(), "--json"])
        .env_remove("SKILLRUN_SKILLS_DIR")
        .env_remove("SKILLRUN_LANG")
        .output()
        .expect("run skillrun");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "skillrun run {skill} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for secret in [PASSWORD, PASSWORD_IN_URL] {
        assert!(!stdout.contains(secret), "the report shows the password:\n{stdout}");
    }
    serde_json::from_str(&stdout).expect("report is JSON")
}

fn repositories(venv_name: &str, url: &str, db_type: &str) {
    let venv = venv(venv_name);
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("project");
    generate(&project, url, db_type);
    let [author, post] = entities(&project);
    let first = run_skill("repository-pattern", &author);
    assert_eq!(first["status"], "applied", "{first}");
    let note = format!("dbType \"{db_type}\" was taken from database-setup's answers");
    assert!(first["notes"].as_array().unwrap().iter().any(|n| n == &serde_json::json!(note)), "{first}");
    let second = run_skill("repository-pattern", &post);
    assert_eq!(second["status"], "applied", "{second}");
    let init = std::fs::read_to_string(project.join("app/infrastructure/database/models/__init__.py")).unwrap();
    for name in ["AuthorModel", "PostModel", "UserModel"] {
        assert!(init.contains(&format!("import {name}\n")) && init.contains(&format!("    \"{name}\",\n")), "{init}");
    }
    // Running it again for either entity changes none of the project's files (the answers file
    // records the latest run's input, so it follows the entity).
    for input in [&author, &post] {
        let again = run_skill("repository-pattern", input);
        let changed: Vec<&serde_json::Value> = again["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["action"] != "unchanged" && f["path"] != ".skillrun/answers.json")
            .collect();
        assert!(changed.is_empty(), "a re-run changed files: {changed:?}");
    }
    // database-setup again: models/__init__.py is merged, so the entities stay registered.
    let setup = serde_json::json!({"projectPath": project, "databaseUrl": url, "dbType": db_type});
    let again = run_skill("database-setup", &setup);
    assert_eq!(again["status"], "applied", "{again}");
    assert_eq!(std::fs::read_to_string(project.join("app/infrastructure/database/models/__init__.py")).unwrap(), init);
    let started = Instant::now();
    let out = Command::new(venv.join("bin/python"))
        .arg(Path::new(ROOT).join("tests/e2e/check_repositories.py"))
        .arg(&project)
        .arg("--venv")
        .arg(&venv)
        .arg("--mypy-cache")
        .arg(mypy_cache())
        .env_remove("DATABASE_URL")
        .output()
        .expect("run check_repositories.py");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "repository e2e check of {db_type} on {venv_name} failed:\n{log}");
    println!("repositories on {db_type} with {venv_name}: checked in {:.1?}\n{log}", started.elapsed());
}

#[test]
fn repositories_on_sqlite_sqlalchemy_2_1() {
    repositories("e2e-sa21", "sqlite:///./app.db", "sqlite");
}

#[test]
fn repositories_on_sqlite_sqlalchemy_2_0() {
    repositories("e2e-sa20", "sqlite:///./app.db", "sqlite");
}

#[test]
fn repositories_on_postgresql_sqlalchemy_2_1() {
    if let Some(db) = Server::Postgres.create("pgrepo") {
        repositories(
            "e2e-sa21",
            &format!("postgresql://{}:{PASSWORD_IN_URL}@127.0.0.1:5432/{}", db.user, db.name),
            "postgresql",
        );
    }
}

#[test]
fn repositories_on_postgresql_sqlalchemy_2_0() {
    if let Some(db) = Server::Postgres.create("pgrepo") {
        repositories(
            "e2e-sa20",
            &format!("postgresql://{}:{PASSWORD_IN_URL}@127.0.0.1:5432/{}", db.user, db.name),
            "postgresql",
        );
    }
}

#[test]
fn repositories_on_mariadb_sqlalchemy_2_1() {
    if let Some(db) = Server::MariaDb.create("myrepo") {
        repositories("e2e-sa21", &format!("mysql://{}:{PASSWORD_IN_URL}@127.0.0.1:3306/{}", db.user, db.name), "mysql");
    }
}

#[test]
fn repositories_on_mariadb_sqlalchemy_2_0() {
    if let Some(db) = Server::MariaDb.create("myrepo") {
        repositories("e2e-sa20", &format!("mysql://{}:{PASSWORD_IN_URL}@127.0.0.1:3306/{}", db.user, db.name), "mysql");
    }
}

// repository-pattern follows the layout database-setup made: the values database-setup decided
// (where its package is, how it is imported, where commands run) are recorded in its answers
// and read back, so a src/ layout, a backend in a subdirectory and a flat import root
// (`PYTHONPATH=app`, `from core.config import ...`) get their files in the same package, imported
// the same way, and the same migrations; then tests/e2e/check_repositories.py on the generated
// code: ruff (the import root as first-party), mypy --strict (the import root as its path),
// Alembic, and the HTTP app importing the package with the layout's prefix.

/// Where a layout puts things: `python_root` is where alembic.ini goes, `package` the package under
/// it, `module` its import prefix, `import_root` the directory the project is imported from
/// (under `python_root`).
struct Layout {
    python_root: &'static str,
    package: &'static str,
    module: &'static str,
    import_root: &'static str,
}

const SRC_LAYOUT: Layout = Layout { python_root: ".", package: "src/shop", module: "shop.", import_root: "src" };
const BACKEND_SUBDIR: Layout = Layout { python_root: "backend", package: "app", module: "app.", import_root: "." };
const FLAT_APP: Layout = Layout { python_root: ".", package: "app", module: "", import_root: "app" };

/// database-setup, then repository-pattern for Author and Post, on a copy of `fixture`.
fn repositories_in_layout(fixture: &str, layout: &Layout, url: &str, db_type: &str) {
    let Layout { python_root, package, module, import_root } = *layout;
    let venv = venv("e2e-sa20");
    let t = crate::adopt::fixture(fixture);
    let project = t.project();
    let setup = run_skill("database-setup", &serde_json::json!({"projectPath": project, "databaseUrl": url}));
    assert_eq!(setup["status"], "applied", "{setup}");
    let root = project.join(python_root);
    for input in entities(&project) {
        let report = run_skill("repository-pattern", &input);
        assert_eq!(report["status"], "applied", "{report}");
        let cd = if python_root == "." { String::new() } else { format!("cd {python_root} && ") };
        let commands: Vec<&str> = report["commands"].as_array().unwrap().iter().filter_map(|c| c.as_str()).collect();
        assert!(
            !commands.is_empty() && commands.iter().all(|c| c.starts_with(&format!("{cd}alembic "))),
            "{commands:?}"
        );
    }
    assert!(!root.join("app").exists() || package == "app", "a second package app/ next to {package}");
    let model = std::fs::read_to_string(root.join(package).join("infrastructure/database/models/post.py")).unwrap();
    assert!(model.contains(&format!("from {module}infrastructure.database.models.base import BaseModel\n")), "{model}");
    let init = std::fs::read_to_string(root.join(package).join("infrastructure/database/models/__init__.py")).unwrap();
    assert!(init.contains(&format!("from {module}infrastructure.database.models.post import PostModel\n")), "{init}");
    let started = Instant::now();
    let out = Command::new(venv.join("bin/python"))
        .arg(Path::new(ROOT).join("tests/e2e/check_repositories.py"))
        .arg(&root)
        .args(["--venv".as_ref(), venv.as_os_str()])
        .args(["--mypy-cache".as_ref(), mypy_cache().as_os_str()])
        .args(["--package", package, "--module", module, "--import-root", import_root, "--generated-only"])
        .env_remove("DATABASE_URL")
        .output()
        .expect("run check_repositories.py");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "repository e2e check of {fixture} on {db_type} failed:\n{log}");
    println!("repositories in {fixture} on {db_type}: checked in {:.1?}\n{log}", started.elapsed());
}

fn postgresql_url(db: &Database) -> String {
    format!("postgresql://{}:{PASSWORD_IN_URL}@127.0.0.1:5432/{}", db.user, db.name)
}

#[test]
fn repositories_in_a_src_layout_on_sqlite() {
    repositories_in_layout("src-layout", &SRC_LAYOUT, "sqlite:///./app.db", "sqlite");
}

#[test]
fn repositories_in_a_backend_subdirectory_on_sqlite() {
    repositories_in_layout("backend-subdir", &BACKEND_SUBDIR, "sqlite:///./app.db", "sqlite");
}

#[test]
fn repositories_in_a_flat_import_root_on_sqlite() {
    repositories_in_layout("flat-app", &FLAT_APP, "sqlite:///./app.db", "sqlite");
}

#[test]
fn repositories_in_a_src_layout_on_postgresql() {
    if let Some(db) = Server::Postgres.create("pgsrc") {
        repositories_in_layout("src-layout", &SRC_LAYOUT, &postgresql_url(&db), "postgresql");
    }
}

#[test]
fn repositories_in_a_backend_subdirectory_on_postgresql() {
    if let Some(db) = Server::Postgres.create("pgback") {
        repositories_in_layout("backend-subdir", &BACKEND_SUBDIR, &postgresql_url(&db), "postgresql");
    }
}

#[test]
fn repositories_in_a_flat_import_root_on_postgresql() {
    if let Some(db) = Server::Postgres.create("pgflat") {
        repositories_in_layout("flat-app", &FLAT_APP, &postgresql_url(&db), "postgresql");
    }
}

#[test]
fn repositories_in_a_src_layout_on_mariadb() {
    if let Some(db) = Server::MariaDb.create("mysrc") {
        let url = format!("mysql://{}:{PASSWORD_IN_URL}@127.0.0.1:3306/{}", db.user, db.name);
        repositories_in_layout("src-layout", &SRC_LAYOUT, &url, "mysql");
    }
}
