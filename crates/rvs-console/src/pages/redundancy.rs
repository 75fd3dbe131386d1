//! REDUNDANCY: the VRRP instance shared with the backup director (peer, priority, advert
//! interval, addresses) and connection sync. Saved to the file; they take effect when rvsd
//! restarts, as for a reload.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::virtuals::Saved;
use super::{FormState, checkbox, read_and_apply, csrf, field, form_error, layout, respond, read_only_note, saved_note, select, textarea};
use crate::backend::Backend;
use crate::forms::fields::Fields;
use crate::forms::redundancy;
use crate::server::{App, Peer, Session};

async fn draw<B: Backend>(app: &App<B>, session: &Session, state: Option<FormState>, saved: Option<&str>, status: StatusCode) -> Response {
    let view = app.backend.config().await;
    let running = app.backend.vrrp();
    let body = html! {
        (saved_note(saved))
        @for v in &running {
            p { "Running now: " span class=(format!("role role-{}", v.state.to_ascii_lowercase())) { (v.state) } " " (v.instance) ", priority " (v.priority)
                ", master " (v.master.map_or("none heard".to_owned(), |m| m.to_string())) }
        }
        @match &view {
            None => (read_only_note("rvsd runs without a configuration file (-f FILE): there is nothing here to change.")),
            Some(view) => {
                @if let Some(r) = &view.read_only { (read_only_note(r)) }
                @if view.config.vrrp.len() > 1 { p.muted { "The file has " (view.config.vrrp.len()) " VRRP instances; this form changes the first, " (view.config.vrrp[0].name) "." } }
                @let state = state.clone().unwrap_or_else(|| FormState::new(redundancy::values(&view.config)));
                form.grid method="post" action="/redundancy" {
                    (csrf(session))
                    fieldset disabled[view.read_only.is_some()] {
                        (form_error(&state))
                        (checkbox(&state, "vrrp", "Run VRRP with a backup director"))
                        (field(&state, "interface", "Interface", "text", "eth0"))
                        (field(&state, "vrid", "Virtual router id", "number", "51"))
                        (field(&state, "priority", "Priority", "number", "100"))
                        (select(&state, "state", "Starts as", &[("backup", "BACKUP"), ("master", "MASTER")]))
                        (select(&state, "version", "VRRP version", &[("3", "3"), ("2", "2")]))
                        (field(&state, "advert_int", "Advert interval (s)", "text", "1"))
                        (checkbox(&state, "preempt", "Preempt (a higher priority takes over)"))
                        (field(&state, "peers", "Peers (unicast; empty: multicast)", "text", "192.168.1.3"))
                        (textarea(&state, "addresses", "Virtual addresses, one per line", "192.168.1.250/24 dev eth0"))
                        (checkbox(&state, "sync", "Synchronise connections with the peer"))
                        (field(&state, "sync_interface", "Sync interface", "text", "eth0"))
                        (field(&state, "syncid", "Sync id", "number", "0"))
                        button type="submit" { "Save redundancy" }
                    }
                }
                p.muted { "VRRP and sync changes are saved at once and take effect when rvsd restarts (the running instance keeps the VIPs where they are)." }
            }
        }
    };
    respond(status, layout("Redundancy", Some(session), "/redundancy", body))
}

pub async fn page<B: Backend>(State(app): State<Arc<App<B>>>, Extension(session): Extension<Session>, Query(q): Query<Saved>) -> Response {
    draw(&app, &session, None, q.saved.as_deref(), StatusCode::OK).await
}

pub async fn submit<B: Backend>(
    State(app): State<Arc<App<B>>>,
    Extension(session): Extension<Session>,
    peer: Option<Extension<Peer>>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let fields = Fields::new(pairs);
    let describe = |form: &redundancy::RedundancyForm| match &form.vrrp {
        Some(v) => format!(
            "redundancy: VRRP vrid {} priority {} on {} advert {:?} peers {:?}, sync {:?}",
            v.vrid, v.priority, v.interface, v.advert_int, v.peers, form.sync
        ),
        None => format!("redundancy: no VRRP, sync {:?}", form.sync),
    };
    let result = read_and_apply(&app, &session, peer.as_deref(), &fields, redundancy::read, describe, redundancy::set).await;
    match result {
        Ok(_) => Redirect::to("/redundancy?saved=restart").into_response(),
        Err(e) => draw(&app, &session, Some(FormState::submitted(fields.values(), e)), None, StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}
