//! The MCP handler: answers `tools/*`, `resources/*` and `skills/*` from the registry and runs
//! skills through [`crate::pipeline::run`] on a blocking thread (dry runs, on stdio, on the
//! protocol thread: see [`SkillServer::with_dry_runs_inline`]), forwarding its stages as
//! `notifications/progress` and stopping it, before it writes, when the call is cancelled (after
//! which no more progress is sent for it).

use std::borrow::Cow;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CustomRequest, CustomResult, ErrorCode, GetSkillRequestParams,
    GetSkillResult, Implementation, ListResourcesResult, ListSkillsResult, ListToolsResult, PaginatedRequestParams,
    ProgressNotificationParam, ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::documents::Documents;
use super::tools::{self, Catalog, Target};
use crate::pipeline::Stage;
use crate::registry::Registry;
use crate::report::Status;
use crate::trigger::Lang;

/// The revisions this server has been checked against: the `initialize` era and 2026-07-28.
pub const PROTOCOL_VERSIONS: &[ProtocolVersion] =
    &[ProtocolVersion::V_2025_06_18, ProtocolVersion::V_2025_11_25, ProtocolVersion::V_2026_07_28];

/// Request methods of the MCP revisions rmcp implements.
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "server/discover",
    "ping",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "subscriptions/listen",
    "prompts/list",
    "prompts/get",
    "logging/setLevel",
    "completion/complete",
    "tools/list",
    "tools/call",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "skills/list",
    "skills/get",
    "resources/directory/read",
];

const INSTRUCTIONS: &str = "skillrun runs agent skills that generate project files (e.g. database-setup: SQLAlchemy 2.0 async + Alembic for FastAPI). \
Each skill is a tool whose input schema says what it needs; pass dryRun: true to preview. \
When a request is free text (Korean or English, e.g. \"DB 설정 해줘\"), call match_skill first: it names the skill and the inputs still missing. \
Each skill's instructions are the resource skill://<id>/SKILL.md.";

/// The server: the registry and everything derived from it, shared by every request.
#[derive(Clone)]
pub struct SkillServer(Arc<Inner>);

struct Inner {
    registry: Arc<Registry>,
    catalog: Catalog,
    documents: Documents,
    /// Runs at once; more calls wait here (still cancellable) instead of each taking a thread.
    runs: Semaphore,
    /// Cancelled when stdin ends: rmcp then only drains responses, so progress cannot be sent.
    input_closed: CancellationToken,
    /// Projects must lie under one of these (canonical) directories; empty: anywhere.
    roots: Arc<crate::locate::Roots>,
    /// Dry runs run on the task that received the call (see [`SkillServer::with_dry_runs_inline`]).
    dry_runs_inline: bool,
}

impl SkillServer {
    /// A server for `registry`; `roots`, when not empty, are the only directories a run may write under.
    /// Every skill is loaded and checked here (the tools carry their input schemas): a broken one
    /// is the error.
    pub fn new(
        registry: Arc<Registry>,
        input_closed: CancellationToken,
        roots: Arc<crate::locate::Roots>,
    ) -> crate::Result<Self> {
        let parallel = std::thread::available_parallelism().map_or(4, |n| n.get()).max(2);
        Ok(SkillServer(Arc::new(Inner {
            catalog: Catalog::new(&registry)?,
            documents: Documents::new(&registry)?,
            registry,
            runs: Semaphore::new(parallel),
            input_closed,
            roots,
            dry_runs_inline: false,
        })))
    }

    /// Runs dry runs on the task that received the call instead of a blocking thread. For the
    /// stdio server: its one protocol thread would otherwise hand every call to another thread
    /// and be woken back per stage, which costs more than a dry run (about a millisecond, no
    /// writes). The HTTP server's worker threads keep handing them over.
    pub fn with_dry_runs_inline(mut self) -> Self {
        Arc::get_mut(&mut self.0).expect("a new server is not shared yet").dry_runs_inline = true;
        self
    }

    async fn run_skill(
        &self,
        id: String,
        options: &[&str],
        params: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let request = match tools::request(&id, options, params.arguments) {
            Ok(request) => crate::Request { roots: self.0.roots.clone(), ..request },
            Err((lang, errors)) => return Ok(tools::failure_result(&id, Status::Invalid, lang, errors).into()),
        };
        let lang = request.lang;
        let ct = context.ct.clone();
        if request.dry_run && self.0.dry_runs_inline {
            // A dry run writes nothing and takes about a millisecond: it runs here, on the
            // protocol thread, so the call crosses no thread (a hop to a blocking thread and back,
            // and a wake per stage, cost more than the run). Its stages are told afterwards, in
            // the same order, before the answer.
            let mut stages = Vec::with_capacity(4);
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::pipeline::run(&self.0.registry, &request, &mut |stage| {
                    stages.push(stage);
                    !ct.is_cancelled()
                })
            }));
            let Ok(result) = run else {
                return Err(ErrorData::internal_error("the run stopped unexpectedly: it panicked", None));
            };
            for stage in stages {
                self.tell_progress(stage, lang, &context).await;
            }
            return answer(&id, lang, result);
        }
        let _permit = tokio::select! {
            permit = self.0.runs.acquire() => permit.map_err(|_| ErrorData::internal_error("the server is shutting down", None))?,
            () = context.ct.cancelled() => return Err(cancelled()),
        };
        let registry = self.0.registry.clone();
        // Without a progress token nobody is told the stages: no channel, so the run never wakes
        // this task before it ends, and only checks for cancellation.
        let (stage_tx, stages) = match context.meta.get_progress_token() {
            Some(_) => {
                let (tx, rx) = mpsc::unbounded_channel::<Stage>();
                (Some(tx), Some(rx))
            }
            None => (None, None),
        };
        let run = tokio::task::spawn_blocking(move || run_until_cancelled(&registry, &request, &ct, stage_tx.as_ref()));
        if let Some(mut stages) = stages {
            while let Some(stage) = stages.recv().await {
                self.tell_progress(stage, lang, &context).await;
            }
        }
        match run.await {
            Ok(result) => answer(&id, lang, result),
            Err(e) => Err(ErrorData::internal_error(format!("the run stopped unexpectedly: {e}"), None)),
        }
    }

    /// Sends `stage` as `notifications/progress` when the call asked for progress. After
    /// `notifications/cancelled` (or the end of input) nothing more is said about the call: the
    /// remaining stages go unsent.
    async fn tell_progress(&self, stage: Stage, lang: Option<Lang>, context: &RequestContext<RoleServer>) {
        let silenced = context.ct.is_cancelled() || self.0.input_closed.is_cancelled();
        let Some(token) = context.meta.get_progress_token().filter(|_| !silenced) else { return };
        let (step, total) = stage.progress();
        let param = ProgressNotificationParam::new(token, f64::from(step))
            .with_total(f64::from(total))
            .with_message(stage_message(stage, lang));
        tokio::select! {
            sent = context.peer.notify_progress(param) => if let Err(e) = sent {
                tracing::debug!(error = %e, "cannot send progress");
            },
            () = self.0.input_closed.cancelled() => {}
            () = context.ct.cancelled() => {}
        }
    }

    fn match_skill(&self, params: CallToolRequestParams) -> Result<CallToolResponse, ErrorData> {
        let args = params.arguments.unwrap_or_default();
        let Some(text) = args.get("text").and_then(|t| t.as_str()).filter(|t| !t.trim().is_empty()) else {
            let error = crate::input::FieldError {
                field: "/text".into(),
                message: "text is required: the user's request as a non-empty string".into(),
            };
            return Ok(tools::failure_result(tools::MATCH_TOOL, Status::Invalid, None, vec![error]).into());
        };
        let lang = args.get("lang").and_then(|l| l.as_str()).and_then(Lang::parse);
        let reply = crate::chat::reply(&self.0.registry, text, lang)
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        Ok(tools::match_result(&reply).into())
    }
}

/// Runs the pipeline, reporting each stage on `stages` when given; stops before writing once `ct`
/// is cancelled.
fn run_until_cancelled(
    registry: &Registry,
    request: &crate::Request,
    ct: &CancellationToken,
    stages: Option<&mpsc::UnboundedSender<Stage>>,
) -> crate::Result<crate::Report> {
    crate::pipeline::run(registry, request, &mut |stage| {
        if let Some(stages) = stages {
            let _ = stages.send(stage);
        }
        !ct.is_cancelled()
    })
}

/// A run's outcome as the call's answer.
fn answer(id: &str, lang: Option<Lang>, result: crate::Result<crate::Report>) -> Result<CallToolResponse, ErrorData> {
    match result {
        Ok(report) => Ok(tools::report_result(&report).into()),
        Err(crate::Error::Cancelled) => Err(cancelled()),
        Err(e) => {
            tracing::warn!(skill = %id, error = %e, "run failed");
            Ok(tools::error_result(id, lang, &e).into())
        }
    }
}

/// Nobody reads the answer to a cancelled call (rmcp drops it), but the handler must end.
fn cancelled() -> ErrorData {
    ErrorData::internal_error("the call was cancelled before anything was written", None)
}

fn stage_message(stage: Stage, lang: Option<Lang>) -> String {
    let say = crate::messages::of(lang.unwrap_or(Lang::En));
    match stage {
        Stage::Validated => say.stage_validated(),
        Stage::Planned { files } => say.stage_planned(files),
        Stage::Applying => say.stage_applying(),
        Stage::Done => say.stage_done(),
    }
}

impl ServerHandler for SkillServer {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder().enable_tools().enable_resources().enable_skills().build();
        ServerConfig::new(capabilities)
            .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
            .with_server_info(Implementation::new("skillrun", env!("CARGO_PKG_VERSION")).with_title("skillrun"))
            .with_instructions(INSTRUCTIONS)
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(PROTOCOL_VERSIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.0.catalog.tools.clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        match self.0.catalog.target(&request.name).cloned() {
            Some(Target::Skill { id, options }) => self.run_skill(id, &options, request, context).await,
            Some(Target::Match) => self.match_skill(request),
            None => {
                let known: Vec<&str> = self.0.catalog.tools.iter().map(|t| t.name.as_ref()).collect();
                Err(ErrorData::invalid_params(
                    format!("unknown tool `{}` (tools: {})", request.name, known.join(", ")),
                    None,
                ))
            }
        }
    }

    /// rmcp hands over a request it could not type: an unknown method (`-32601`), or a method it
    /// knows whose params did not fit (`-32602`).
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        if KNOWN_METHODS.contains(&request.method.as_str()) {
            Err(ErrorData::invalid_params(format!("Invalid params for {}", request.method), None))
        } else {
            Err(ErrorData::new(ErrorCode::METHOD_NOT_FOUND, format!("Method not found: {}", request.method), None))
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(self.0.documents.resources()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        match self.0.documents.read(&request.uri) {
            Some(contents) => Ok(ReadResourceResult::new(vec![contents]).into()),
            None => Err(ErrorData::resource_not_found(format!("no resource {}", request.uri), None)),
        }
    }

    async fn list_skills(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListSkillsResult, ErrorData> {
        Ok(ListSkillsResult::with_all_items(self.0.documents.skills()))
    }

    async fn get_skill(
        &self,
        request: GetSkillRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetSkillResult, ErrorData> {
        match self.0.documents.skill(&request.uri) {
            Some(skill) => Ok(GetSkillResult::new(skill)),
            None => Err(ErrorData::invalid_params(format!("no skill at {}", request.uri), None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_call_stops_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p");
        let input = serde_json::json!({"projectPath": project, "databaseUrl": "sqlite:///./app.db"});
        let request = crate::Request::new("database-setup", input);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let ct = CancellationToken::new();
        ct.cancel();
        let result = run_until_cancelled(&crate::skills::embedded().unwrap(), &request, &ct, Some(&tx));
        assert!(matches!(result, Err(crate::Error::Cancelled)), "{result:?}");
        assert_eq!(rx.try_recv().ok(), Some(Stage::Validated));
        assert!(!project.exists(), "nothing may be written");
    }
}
