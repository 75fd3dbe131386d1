//! GLOBAL SETTINGS: the director's name, its real servers' forwarding method and the
//! connection timeouts, which the console changes; the interfaces and the NAT router, which
//! rvsd's command line sets.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::virtuals::Saved;
use super::{FormState, csrf, read_and_apply, field, form_error, layout, respond, read_only_note, saved_note, select};
use crate::backend::Backend;
use crate::forms::fields::Fields;
use crate::forms::{global, real};
use crate::server::{App, Peer, Session};

const FORWARD_OPTIONS: &[(&str, &str)] = &[
    ("keep", "leave each real server's as it is"),
    ("dr", "direct routing (DR) for every real server"),
    ("nat", "NAT for every real server"),
    ("tun", "tunnel (IPIP) for every real server"),
];

async fn draw<B: Backend>(app: &App<B>, session: &Session, state: Option<FormState>, saved: Option<&str>, status: StatusCode) -> Response {
    let facts = app.backend.facts();
    let view = app.backend.config().await;
    let body = html! {
        (saved_note(saved))
        section.card {
            h2 { "Set on rvsd's command line" }
            p { "Interfaces (" code { "-i" } "): " (facts.interfaces.join(", ")) }
            p { "NAT router (" code { "--nat-router" } "): " (facts.nat_router.as_deref().unwrap_or("none")) }
            p { "Instance: " (facts.instance) }
        }
        @match &view {
            None => (read_only_note("rvsd runs without a configuration file (-f FILE): there is nothing here to change.")),
            Some(view) => {
                @if let Some(r) = &view.read_only { (read_only_note(r)) }
                @let current = global::common_forward(&view.config);
                @let state = state.clone().unwrap_or_else(|| FormState::new(
                    [("router_id", view.config.router_id.clone().unwrap_or_default()), ("forward", "keep".to_owned())]
                        .into_iter()
                        .chain(global::timeout_values(view.config.timeouts)),
                ));
                p { "Forwarding method now: " strong { (current.map_or("mixed or none", real::forward_name)) } }
                form.grid method="post" action="/global" {
                    (csrf(session))
                    fieldset disabled[view.read_only.is_some()] {
                        (form_error(&state))
                        (field(&state, "router_id", "Director name (router_id)", "text", "lvs1"))
                        (select(&state, "forward", "Forwarding method", FORWARD_OPTIONS))
                        (field(&state, "timeout_tcp", "TCP timeout (s)", "number", "900, or as it is"))
                        (field(&state, "timeout_tcpfin", "TCP FIN timeout (s)", "number", "120, or as it is"))
                        (field(&state, "timeout_udp", "UDP timeout (s)", "number", "300, or as it is"))
                        p.muted { "The timeouts are ipvsadm --set's: an empty one stays as it is (the kernel's defaults are 900, 120 and 300 s)." }
                        button type="submit" { "Save global settings" }
                    }
                }
            }
        }
    };
    respond(status, layout("Global settings", Some(session), "/global", body))
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
    let describe = |form: &global::GlobalForm| {
        format!(
            "global settings: router_id {:?}, forwarding {}, timeouts {:?}",
            form.router_id,
            form.forward.map_or("unchanged", real::forward_name),
            form.timeouts
        )
    };
    let result = read_and_apply(&app, &session, peer.as_deref(), &fields, global::read, describe, global::set).await;
    match result {
        Ok(applied) => Redirect::to(&format!("/global?saved={}", super::saved_code(&applied))).into_response(),
        Err(e) => draw(&app, &session, Some(FormState::submitted(fields.values(), e)), None, StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}
