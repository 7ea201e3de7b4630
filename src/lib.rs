//! skillrun: a runtime for trigger-driven agent skills, and its front ends.
//!
//! The engine ([`skillrun_engine`], re-exported here) runs a skill: registry -> input -> plan ->
//! apply -> report. This crate holds what people, bots and assistants talk to: [`cli`] (the
//! `skillrun` command), [`mcp`] (the MCP server on stdio), [`http`] (chat, Slack and MCP over
//! HTTP) and [`conversation`] (chat state between messages); they only translate requests and
//! reports. [`skills`] is the skill set built into the binary, and [`plugin`] writes the assistant
//! plugins from it.

pub mod cli;
pub mod conversation;
pub mod http;
pub mod mcp;
pub mod messages;
pub mod plugin;
pub mod signals;
pub mod skills;

pub use skillrun_engine::*;
