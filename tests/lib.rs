//! The integration tests: one binary, one topic per module. Everything runs the real
//! `skillrun` binary (or, for end-to-end, the generated project under real Python tooling).

mod support;

mod adopt;
mod chatops;
mod cli;
mod composition;
mod conversation;
mod e2e;
mod faults;
mod gitignore;
mod hostile;
mod http;
mod mcp;
mod packaging;
mod safety;
mod secrets;
mod skills_dir;
mod synthetic_skill;
mod triggers;
mod updates;
mod validation;
mod write_failures;
