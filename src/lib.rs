//! skillrun: a runtime for trigger-driven agent skills.
//!
//! A request (CLI arguments, an MCP `tools/call`, or chat text) goes one way:
//! [`registry`] (which skill) -> [`input`] (schema, defaults, derived values) -> [`plan`] (every file
//! rendered in memory and compared with the disk) -> [`apply`] (all-or-nothing writes) ->
//! [`report`]. [`pipeline::run`] is that path; [`cli`], [`mcp`], [`http`] and [`chat`] only translate;
//! [`conversation`] holds chat state (what is asked, what is known) between messages.

pub mod apply;
pub mod chat;
pub mod cli;
pub mod conversation;
pub mod dburl;
pub mod error;
pub mod http;
pub mod input;
pub mod journal;
pub mod mcp;
pub mod merge;
pub mod pipeline;
pub mod plan;
pub mod provenance;
pub mod registry;
pub mod report;
pub mod trigger;

pub use error::{Error, Result};
pub use pipeline::{Request, Stage, run};
pub use registry::Registry;
pub use report::{Report, Status};
pub use trigger::Lang;
