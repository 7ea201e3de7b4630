//! skillrun's engine: runs a skill, given as data, on a project directory.
//!
//! A request goes one way: [`registry`] (which skill) -> [`input`] (schema, defaults, derived
//! values) -> [`inspect`] (facts about the project, the skill's refusals) -> [`plan`] (every
//! file rendered in memory and compared with the disk) -> [`apply`]
//! (all-or-nothing writes) -> [`report`]. [`pipeline::run`] is that path; [`trigger`] and
//! [`chat`] turn free text into a skill and input values. The engine knows no front end (the
//! `skillrun` crate holds the CLI, MCP, HTTP and conversation front ends) and no skill (skills are
//! files handed to [`Registry`]).

pub mod apply;
pub mod chat;
pub mod dburl;
pub mod durable;
pub mod error;
mod fill;
pub mod git;
pub mod gitignore;
pub mod input;
pub mod inspect;
pub mod journal;
pub mod locate;
pub mod merge;
pub mod messages;
pub mod names;
pub mod paths;
pub mod pipeline;
pub mod plan;
pub mod project_dir;
pub mod provenance;
pub mod pyedit;
pub mod pystmt;
pub mod registry;
pub mod report;
pub mod requires;
pub mod secret;
pub mod shutdown;
pub mod state;
pub mod trigger;

pub use error::{Error, Result};
pub use messages::Lang;
pub use pipeline::{Request, Stage, run};
pub use registry::Registry;
pub use report::{Report, Status};
