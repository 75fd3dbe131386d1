//! keepalived.conf into rvs-core's [`Config`], with keepalived 2.2's meanings and defaults
//! (forwarding NAT, weight 1, quorum 1, persistence 360 s when `persistence_timeout` has no
//! value, checker timings of `check_api.c`, VRRP priority 100 …).
//!
//! The file is read in four steps: [`lexer`] (lines, comments, quotes, braces, `include`,
//! `$NAME` definitions), [`tree`] (blocks), then the keywords of each block ([`global`],
//! [`lvs`], [`group`], [`checkers`], [`http`], [`vrrp`]) into drafts, and last the drafts into
//! the model ([`service`], [`vrrp_finish`]) once every block is known (groups, track files and
//! vrrp scripts may be named before they are defined).
//!
//! Errors refuse the file: a bad value, an unbalanced brace, a missing include, a duplicate
//! virtual or real server. Keywords rvs does not know, or knows and does not act on, are
//! warnings: a keepalived.conf with options rvs lacks still loads.

mod checkers;
mod context;
mod global;
mod group;
mod http;
mod include;
mod lexer;
mod lvs;
mod service;
mod tree;
mod value;
mod vrrp;
mod vrrp_finish;

#[cfg(test)]
mod tests;

use std::path::Path;

use rvs_core::config::{Config, VrrpScript};
use rvs_core::model::TimeoutUpdate;

use crate::{ConfigError, Diagnostic};
use context::{Ctx, Pos};

/// Parses keepalived.conf text; `name` is the file's path (for messages and for `include`,
/// resolved relative to its directory, with glob patterns `*`/`?` as keepalived allows).
/// Returns the config and the warnings, or the errors.
pub fn parse(text: &str, name: &Path) -> Result<(Config, Vec<Diagnostic>), ConfigError> {
    let mut ctx = Ctx::default();
    let items = lexer::lex(text, name, &mut ctx);
    let nodes = tree::build(items, &mut ctx);
    let mut draft = Draft::default();
    for node in &nodes {
        global::root(node, &mut draft, &mut ctx);
    }
    let config = Config {
        virtual_servers: service::finish(&draft, &mut ctx),
        marks: Vec::new(),
        timeouts: draft.timeouts,
        vrrp: vrrp_finish::finish(&draft, &mut ctx),
        vrrp_scripts: draft.scripts.iter().map(|(s, _)| s.clone()).collect(),
        router_id: draft.router_id.clone(),
        sync_daemon: draft.sync_daemon.clone(),
    };
    let diagnostics = ctx.diagnostics();
    if ctx.has_errors() { Err(ConfigError { diagnostics }) } else { Ok((config, diagnostics)) }
}

/// What the blocks state, before it becomes the model.
#[derive(Debug, Default)]
struct Draft {
    router_id: Option<String>,
    sync_daemon: Option<rvs_core::config::SyncDaemonSpec>,
    timeouts: Option<TimeoutUpdate>,
    vrrp_defaults: vrrp::Defaults,
    track_files: Vec<global::TrackFile>,
    groups: Vec<group::Group>,
    servers: Vec<lvs::VsDraft>,
    instances: Vec<vrrp::InstanceDraft>,
    scripts: Vec<(VrrpScript, Pos)>,
}
