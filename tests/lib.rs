//! The integration tests: one binary, one topic per module. Everything runs the real
//! `skillrun` binary (or, for end-to-end, the generated project under real Python tooling).

mod support;

mod cli;
mod conversation;
mod e2e;
mod http;
mod mcp;
mod safety;
mod skills_dir;
mod triggers;
mod validation;
mod write_failures;
