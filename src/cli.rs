//! The command line: parses arguments with clap, calls the pipeline, prints reports, and maps
//! every outcome to the documented exit codes (one place):
//! 0 ok, 1 no match or runtime error, 2 invalid input or usage, 3 conflict (nothing written).

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::{Map, Value, json};

use crate::registry::Registry;
use crate::report::Status;
use crate::trigger::Lang;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_INVALID: u8 = 2;
pub const EXIT_CONFLICT: u8 = 3;

#[derive(Parser)]
#[command(
    name = "skillrun",
    version,
    about = "Runs trigger-driven agent skills (SQLAlchemy + Alembic database setup, ...)"
)]
struct Cli {
    /// Load skills from DIR (a manifest.json with its schemas and skills) instead of the built-in set.
    #[arg(long, global = true, value_name = "DIR")]
    skills_dir: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug); RUST_LOG also works.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the skills (from the manifest; a skill's own files are read when it is used).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Load and check every skill of the set (input schema, skill.json, SKILL.md, templates, the
    /// skills each requires); print each broken one's file and reason, exit 1 if any.
    Check,
    /// Rank the skills a request asks for ("DB 설정 해줘", "set up alembic"), with why; exit 1
    /// when none matches (a skill that came close is named on stderr).
    Match {
        text: String,
        #[arg(long)]
        json: bool,
    },
    /// Chat: with TEXT, answer that one message (the matching skill, the inputs found, what is
    /// still needed); without, hold a conversation on stdin/stdout, one message per line, that
    /// asks for the missing inputs, previews the plan, and runs the skill on "yes".
    Chat {
        text: Option<String>,
        /// JSON: with TEXT, the match; without, one JSON object per line in
        /// ({"conversation": "c1", "text": "...", "lang": "ko"}) and one turn per line out.
        #[arg(long)]
        json: bool,
        /// Answer in this language (ko or en) instead of the message's.
        #[arg(long)]
        lang: Option<String>,
    },
    /// Print a skill's input JSON Schema.
    Schema { skill: String },
    /// Print a skill's SKILL.md.
    Show { skill: String },
    /// Run a skill.
    Run {
        skill: String,
        /// The input: a JSON object, @FILE, or - for stdin.
        #[arg(long, short)]
        input: Option<String>,
        /// Set one input field (repeatable); VALUE is JSON if it parses, else a string.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Show what would happen; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Replace files that differ (each is backed up under .skillrun/backups/).
        #[arg(long, conflicts_with = "skip_existing")]
        force: bool,
        /// Write the new files and leave every file that differs as it is.
        #[arg(long)]
        skip_existing: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Language of messages: ko or en (default: SKILLRUN_LANG, then LANG, then en).
        #[arg(long)]
        lang: Option<String>,
        /// Refuse the run unless the project lies under DIR (repeatable), as the servers do.
        #[arg(long = "root", value_name = "DIR")]
        roots: Vec<PathBuf>,
    },
    /// Serve the skills as MCP tools (JSON-RPC 2.0 over stdio), or with --http, the chat and MCP
    /// endpoints over HTTP (needs SKILLRUN_TOKEN and at least one --root).
    Serve {
        /// Listen on ADDR (e.g. 127.0.0.1:8080; port 0 picks a free one, printed on stderr).
        #[arg(long, value_name = "ADDR")]
        http: Option<std::net::SocketAddr>,
        /// A directory projects may be written under (repeatable); runs anywhere else are refused.
        /// Without it, `serve` (stdio) allows only its working directory; `--root /` allows all.
        #[arg(long = "root", value_name = "DIR")]
        roots: Vec<PathBuf>,
        /// Conversations held at once (HTTP), over all callers; more get 429. MCP sessions are
        /// bounded by the same numbers.
        #[arg(long, value_name = "N", default_value_t = 1000)]
        max_conversations: usize,
        /// Conversations one caller (a token, Slack, Mattermost) may hold at once (default: an
        /// equal share of --max-conversations).
        #[arg(long, value_name = "N")]
        max_per_caller: Option<usize>,
        /// Where conversations live: `memory` (this process) or a Redis URL (`redis://host:6379/0`,
        /// shared by every replica given the same URL and prefix).
        #[arg(long, value_name = "URL", default_value = "memory")]
        store: String,
        /// The prefix of every Redis key.
        #[arg(long, value_name = "PREFIX", default_value = "skillrun")]
        store_prefix: String,
        /// A browser origin allowed on /mcp besides loopback ones (repeatable; `:*` for any port).
        #[arg(long = "allow-origin", value_name = "ORIGIN")]
        allowed_origins: Vec<String>,
        /// Seconds a client has to send a request's headers, and then its body.
        #[arg(long, value_name = "SECS", default_value_t = 10.0)]
        read_timeout: f64,
        /// This server's public base URL (for Mattermost's button callbacks).
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
    },
    /// Write the assistant plugins for the built-in skill set into DIR: a Claude Code and Codex
    /// marketplace whose plugin, DIR/plugin, is also a Gemini CLI extension and holds the Cursor
    /// and VS Code MCP snippets.
    Plugin {
        dir: PathBuf,
        /// Write nothing; list each file that differs from what would be written (exit 1 if any).
        #[arg(long)]
        check: bool,
    },
    /// Undo a run that was killed part-way (normally done by the next run on the project).
    Recover {
        /// The project directory.
        project: PathBuf,
    },
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_INVALID } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(cli.verbose);
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("skillrun: {e:#}");
            EXIT_FAILURE
        }
    };
    // A server whose client went away may still have a run writing on a worker thread: it
    // finishes (commits or rolls back) before the process ends.
    crate::shutdown::stop_and_wait();
    ExitCode::from(code)
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{Layer, filter::FilterExt};
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // rmcp logs every request whole at debug and trace, tool arguments (a database URL with its
    // password) included: its events below info are dropped, whatever RUST_LOG asks.
    let no_rmcp_payloads = tracing_subscriber::filter::filter_fn(|meta| {
        !(meta.target().starts_with("rmcp") && *meta.level() > tracing::Level::INFO)
    });
    // Every line is redacted on its way out (skillrun::secret::redact): no URL password or
    // secret value reaches the log, whatever an event carries.
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(|| crate::secret::Redacting::new(std::io::stderr()))
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(filter.and(no_rmcp_payloads));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let other_skill_set = cli.skills_dir.is_some() || std::env::var_os("SKILLRUN_SKILLS_DIR").is_some();
    // Not dropped at exit: freeing every skill and the trigger index one by one is work the
    // process ending does at once (a fifth of `list` with 1,000 skills). A server gets it back.
    let registry = std::mem::ManuallyDrop::new(crate::skills::load(cli.skills_dir.as_deref())?);
    match cli.command {
        Command::List { json } => {
            if json {
                let skills: Vec<Value> = registry
                    .entries()
                    .iter()
                    .map(|e| json!({"id": e.id, "version": e.version, "title": e.title, "description": e.description, "triggers": e.triggers}))
                    .collect();
                print(&serde_json::to_string_pretty(&json!({ "skills": skills }))?);
            } else {
                // One write for the whole list (stdout is line-buffered: a line each would be a
                // write each, a thousand for a thousand skills).
                let width = registry.entries().iter().map(|e| e.id.len()).max().unwrap_or(0);
                let lines: Vec<String> = registry
                    .entries()
                    .iter()
                    .map(|e| format!("{:<width$}  {:<8}  {}", e.id, e.version, e.title.en))
                    .collect();
                if !lines.is_empty() {
                    print(&lines.join("\n"));
                }
            }
            Ok(EXIT_OK)
        }
        Command::Check => {
            let loaded = registry.load_all();
            let broken: Vec<&crate::Error> = loaded.iter().filter_map(|r| r.as_ref().err()).collect();
            for e in &broken {
                eprintln!("skillrun: {e}");
            }
            print(&format!("skills checked: {}, broken: {}", loaded.len(), broken.len()));
            Ok(if broken.is_empty() { EXIT_OK } else { EXIT_FAILURE })
        }
        Command::Match { text, json } => {
            let reply = crate::chat::reply(&registry, &text, None)?;
            if json {
                print(&serde_json::to_string_pretty(&reply)?);
            } else if reply.matches.is_empty() {
                eprintln!("no skill matches ({})", reply.lang.code());
                if !reply.near_misses.is_empty() {
                    eprintln!("{}", reply.message);
                }
            } else {
                for m in &reply.matches {
                    let t = &m.matched;
                    let why = format!("objects={} intents={}", t.why.objects.join(","), t.why.intents.join(","));
                    let trigger = t.trigger.as_deref().unwrap_or("-");
                    print(&format!("{}\t{:.3}\t{trigger}\t{}\t{why}", t.skill, t.score, reply.lang.code()));
                }
                if reply.ambiguous {
                    eprintln!("{}", reply.message);
                }
            }
            Ok(if reply.matches.is_empty() { EXIT_FAILURE } else { EXIT_OK })
        }
        Command::Chat { text: None, json, lang } => {
            chat_lines(std::mem::ManuallyDrop::into_inner(registry), json, lang.as_deref().and_then(Lang::parse))?;
            Ok(EXIT_OK)
        }
        Command::Chat { text: Some(text), json, lang } => {
            let reply = crate::chat::reply(&registry, &text, lang.as_deref().and_then(Lang::parse))?;
            if json {
                print(&serde_json::to_string_pretty(&reply)?);
            } else {
                print(&reply.message);
            }
            Ok(if reply.matches.is_empty() { EXIT_FAILURE } else { EXIT_OK })
        }
        Command::Schema { skill } => {
            print(&serde_json::to_string_pretty(&registry.get(&skill)?.input_schema)?);
            Ok(EXIT_OK)
        }
        Command::Show { skill } => {
            print(registry.get(&skill)?.skill_md.trim_end());
            Ok(EXIT_OK)
        }
        Command::Run { skill, input, set, dry_run, force, skip_existing, json, lang, roots } => {
            let lang = lang.as_deref().and_then(Lang::parse).or_else(env_lang);
            let reads_stdin = input.as_deref() == Some("-");
            let mut input = match read_input(input.as_deref(), &set) {
                Ok(v) => v,
                Err(message) => {
                    eprintln!("skillrun: {message}");
                    return Ok(EXIT_INVALID);
                }
            };
            // At a terminal, ask for the required inputs that were not given, as copier does.
            if !json
                && !reads_stdin
                && std::io::stdin().is_terminal()
                && let (Ok(skill), Some(object)) = (registry.get(&skill), input.as_object_mut())
            {
                ask_missing(skill, object, lang.unwrap_or(Lang::En))?;
            }
            let roots = if roots.is_empty() { Default::default() } else { crate::http::open_roots(&roots)? };
            let request = crate::Request {
                dry_run,
                force,
                skip_existing,
                lang,
                roots,
                ..crate::Request::new(skill.clone(), input)
            };
            match crate::run(&registry, &request, &mut |_| true) {
                Ok(report) => {
                    if json {
                        print(&serde_json::to_string_pretty(&report)?);
                    } else {
                        print(report.to_text().trim_end());
                    }
                    Ok(match report.status {
                        Status::Applied | Status::DryRun => EXIT_OK,
                        Status::Invalid => EXIT_INVALID,
                        Status::Conflict => EXIT_CONFLICT,
                        Status::Error => EXIT_FAILURE,
                    })
                }
                Err(e) => {
                    if json {
                        let status = if matches!(e, crate::Error::UnknownSkill { .. }) { "invalid" } else { "error" };
                        print(&serde_json::to_string_pretty(
                            &json!({"skill": skill, "status": status, "files": [], "commands": [], "errors": [{"field": "", "message": e.to_string()}], "message": e.to_string()}),
                        )?);
                    } else {
                        eprintln!("skillrun: {e}");
                    }
                    Ok(if matches!(e, crate::Error::UnknownSkill { .. }) { EXIT_INVALID } else { EXIT_FAILURE })
                }
            }
        }
        Command::Serve { http: None, roots, .. } => {
            // Without --root, only the directory the server was started in (an assistant starts
            // it in the user's project or workspace): a tool call cannot write anywhere else.
            let roots = if roots.is_empty() { vec![std::env::current_dir()?] } else { roots };
            crate::mcp::serve(std::mem::ManuallyDrop::into_inner(registry), crate::http::open_roots(&roots)?)?;
            Ok(EXIT_OK)
        }
        Command::Serve {
            http: Some(addr),
            roots,
            max_conversations,
            max_per_caller,
            store,
            store_prefix,
            allowed_origins,
            read_timeout,
            public_url,
        } => {
            anyhow::ensure!(
                read_timeout.is_finite() && read_timeout > 0.0,
                "--read-timeout must be a positive number of seconds"
            );
            let limits = crate::conversation::Limits {
                max_conversations,
                max_per_caller: max_per_caller.unwrap_or(0),
                ..Default::default()
            };
            let config = crate::http::Config {
                store,
                store_prefix,
                allowed_origins,
                read_timeout: std::time::Duration::from_secs_f64(read_timeout),
                public_url,
                ..crate::http::Config::from_env(addr, roots, limits)
            };
            crate::http::serve(std::mem::ManuallyDrop::into_inner(registry), config)?;
            Ok(EXIT_OK)
        }
        Command::Plugin { .. } if other_skill_set => {
            eprintln!("skillrun: {}", crate::plugin::Error::OtherSkillSet);
            Ok(EXIT_INVALID)
        }
        Command::Plugin { dir, check } => {
            let files = crate::plugin::files(&registry)?;
            if !check {
                crate::plugin::write(&dir, &files)?;
                print(&format!("wrote the plugin ({} files) under {}", files.len(), dir.display()));
                for line in crate::plugin::check(&dir, &files) {
                    eprintln!("skillrun: {line} (left as it is; remove it if it is stale)");
                }
                return Ok(EXIT_OK);
            }
            let drift = crate::plugin::check(&dir, &files);
            for line in &drift {
                print(line);
            }
            Ok(if drift.is_empty() { EXIT_OK } else { EXIT_FAILURE })
        }
        Command::Recover { project } => {
            let location = crate::locate::Roots::anywhere().locate(&project.to_string_lossy())?;
            anyhow::ensure!(location.dir().is_some(), "{}: no such directory", project.display());
            let (dir, _lock) = crate::locate::lock(location)?;
            match crate::journal::recover(&dir)? {
                Some(crate::journal::Recovered::RolledBack { files }) => {
                    print(&format!("rolled back an interrupted run: {files} files put back as they were"))
                }
                Some(crate::journal::Recovered::CleanedUp) => print("removed the journal of a run that had finished"),
                Some(crate::journal::Recovered::Suspicious { reason }) => {
                    eprintln!("skillrun: {}", crate::Error::SuspiciousJournal { reason });
                    return Ok(EXIT_FAILURE);
                }
                None => print("nothing to recover"),
            }
            Ok(EXIT_OK)
        }
    }
}

/// `skillrun chat` without TEXT: each stdin line is a message to the conversation engine; each
/// turn is printed (its reply, or with `json` the whole turn as one line). Ends at end of input.
fn chat_lines(registry: Registry, json: bool, lang: Option<Lang>) -> anyhow::Result<()> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line {
        #[serde(default)]
        conversation: Option<String>,
        text: String,
        #[serde(default)]
        lang: Option<String>,
    }
    let engine = crate::conversation::Engine::new(registry.into(), Default::default());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    for line in std::io::stdin().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let (id, text, lang) = if json {
            match serde_json::from_str::<Line>(&line) {
                Ok(l) => {
                    let lang = l.lang.as_deref().and_then(Lang::parse).or(lang);
                    (l.conversation.unwrap_or_else(|| "default".into()), l.text, lang)
                }
                Err(e) => {
                    let message = format!(
                        "each line must be JSON like {{\"conversation\": \"c1\", \"text\": \"DB 설정 해줘\"}} ({e})"
                    );
                    print(&json!({ "error": message }).to_string());
                    continue;
                }
            }
        } else {
            ("default".to_owned(), line, lang)
        };
        let input = crate::conversation::Input::Text(text);
        match runtime.block_on(engine.message("local", "local", &id, input, lang)) {
            Ok(turn) if json => print(&serde_json::to_string(&turn)?),
            Ok(turn) => print(&turn.reply),
            Err(refusal) if json => {
                print(&json!({ "conversation": id, "error": refusal.message(lang.unwrap_or(Lang::En)) }).to_string())
            }
            Err(refusal) => eprintln!("skillrun: {}", refusal.message(lang.unwrap_or(Lang::En))),
        }
    }
    Ok(())
}

/// Prompts on stderr for each required input that is missing, showing the field's hint.
fn ask_missing(skill: &crate::registry::Skill, input: &mut Map<String, Value>, lang: Lang) -> anyhow::Result<()> {
    let missing: Vec<String> = skill.required_inputs().into_iter().filter(|f| !input.contains_key(f)).collect();
    for field in missing {
        let hint = skill.hint(&field, lang).unwrap_or_default();
        eprint!("{field} ({hint}): ");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer)? == 0 {
            break;
        }
        let answer = answer.trim();
        if !answer.is_empty() {
            input.insert(field, Value::String(answer.to_owned()));
        }
    }
    Ok(())
}

fn env_lang() -> Option<Lang> {
    if let Some(l) = std::env::var("SKILLRUN_LANG").ok().and_then(|v| Lang::parse(&v)) {
        return Some(l);
    }
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        .map(|v| if v.to_lowercase().starts_with("ko") { Lang::Ko } else { Lang::En })
}

/// `--input` (JSON, @file or -) merged with `--set key=value` pairs.
fn read_input(input: Option<&str>, set: &[String]) -> Result<Value, String> {
    let text = match input {
        None => "{}".to_owned(),
        Some("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| format!("cannot read the input from stdin: {e}"))?;
            s
        }
        Some(arg) if arg.starts_with('@') => {
            std::fs::read_to_string(&arg[1..]).map_err(|e| format!("cannot read the input file {}: {e}", &arg[1..]))?
        }
        Some(arg) => arg.to_owned(),
    };
    let mut value: Value = serde_json::from_str(&text).map_err(|e| {
        format!("--input is not valid JSON ({e}); pass a JSON object such as '{{\"projectPath\": \".\"}}'")
    })?;
    if !set.is_empty() {
        let object: &mut Map<String, Value> = value.as_object_mut().ok_or("--set needs --input to be a JSON object")?;
        for pair in set {
            let (key, raw) = pair.split_once('=').ok_or_else(|| format!("--set {pair}: expected KEY=VALUE"))?;
            let parsed = serde_json::from_str(raw)
                .ok()
                .filter(|v: &Value| !v.is_string() || raw.starts_with('"'))
                .unwrap_or_else(|| Value::String(raw.to_owned()));
            object.insert(key.to_owned(), parsed);
        }
    }
    Ok(value)
}

/// Writes a line to stdout; a closed pipe (`| head`) is not an error.
fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").is_err() {
        std::process::exit(0);
    }
}
