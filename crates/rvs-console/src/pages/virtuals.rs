//! VIRTUAL SERVERS: the services of the configuration file with their real servers and their
//! check; add, change, enable, disable or delete them, change a weight, quiesce a real server.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use rvs_core::config::VirtualServer;
use rvs_core::model::{DestEntry, ServiceEntry, ServiceKey};
use serde::Deserialize;

use super::{FormState, apply, checkbox, csrf, saved_code, field, form_error, layout, respond, read_only_note, saved_note, select};
use crate::backend::{Backend, ConfigView};
use crate::forms::fields::{Errors, Fields};
use crate::forms::{check, real, service, slug};
use crate::server::{App, Peer, Session};

#[derive(Debug, Deserialize)]
pub struct Saved {
    pub saved: Option<String>,
}

type Submitted = Form<Vec<(String, String)>>;

fn scheduler_options() -> Vec<(&'static str, &'static str)> {
    service::SCHEDULERS.iter().map(|s| (*s, *s)).collect()
}

const PROTOCOL_OPTIONS: &[(&str, &str)] = &[("tcp", "TCP"), ("udp", "UDP"), ("sctp", "SCTP"), ("fwm", "firewall mark")];
const FORWARD_OPTIONS: &[(&str, &str)] = &[("dr", "direct routing (DR)"), ("nat", "NAT (masquerading)"), ("tun", "tunnel (IPIP)")];

fn service_values(vs: &VirtualServer) -> FormState {
    let (protocol, address, port, mark) = match vs.service.key {
        ServiceKey::Addr { protocol, addr, port } => (protocol.name().to_ascii_lowercase(), addr.to_string(), port.to_string(), String::new()),
        ServiceKey::Fwmark { mark, .. } => ("fwm".to_owned(), String::new(), String::new(), mark.get().to_string()),
    };
    let persistence = if vs.service.flags.persistent { vs.service.timeout.to_string() } else { String::new() };
    let netmask = match vs.service.netmask {
        m if m == rvs_core::model::Netmask::full(vs.service.key.af()) => String::new(),
        rvs_core::model::Netmask::V4(m) => m.to_string(),
        rvs_core::model::Netmask::V6(p) => p.to_string(),
    };
    let sorry = vs.sorry_server.as_ref().map(|s| std::net::SocketAddr::new(s.addr, s.port).to_string()).unwrap_or_default();
    FormState::new([
        ("protocol", protocol),
        ("address", address),
        ("port", port),
        ("mark", mark),
        ("scheduler", vs.service.scheduler.as_str().to_owned()),
        ("persistence", persistence),
        ("netmask", netmask),
        ("sorry", sorry),
    ])
}

fn service_form(state: &FormState, action: &str, button: &str, session: &Session, disabled: bool) -> Markup {
    html! {
        form.grid method="post" action=(action) data-testid="service-form" {
            (csrf(session))
            fieldset disabled[disabled] {
                (form_error(state))
                (select(state, "protocol", "Protocol", PROTOCOL_OPTIONS))
                (field(state, "address", "Virtual IP", "text", "192.168.1.250"))
                (field(state, "port", "Port", "number", "80"))
                (field(state, "mark", "Firewall mark", "number", "1"))
                (select(state, "scheduler", "Scheduler", &scheduler_options()))
                (field(state, "persistence", "Persistence (s)", "number", "none"))
                (field(state, "netmask", "Persistence netmask", "text", "255.255.255.255"))
                (field(state, "sorry", "Sorry server", "text", "none (address[:port])"))
                button type="submit" { (button) }
            }
        }
    }
}

/// The configuration, or the page that says why there is none to change.
async fn config_or_note<B: Backend>(app: &App<B>) -> Result<ConfigView, Markup> {
    app.backend.config().await.ok_or_else(|| {
        read_only_note("rvsd runs without a configuration file (-f FILE): there is nothing here to change. Start rvsd with a file to manage its virtual servers from the console.")
    })
}

fn list_page(session: &Session, view: Result<&ConfigView, &Markup>, add: &FormState, saved: Option<&str>, status: StatusCode) -> Response {
    let body = match view {
        Err(note) => note.clone(),
        Ok(view) => html! {
            (saved_note(saved))
            @if let Some(r) = &view.read_only { (read_only_note(r)) }
            p.muted { "Configuration file: " code { (view.path.display().to_string()) } " (" (view.format.name()) ")" }
            table.list data-testid="services" {
                thead { tr { th { "Service" } th { "Scheduler" } th { "Persistence" } th.num { "Real servers" } th { "State" } } }
                tbody {
                    @for vs in &view.config.virtual_servers {
                        tr {
                            td { a href=(format!("/virtual/{}", slug::service(&vs.service.key))) { (vs.service.key.to_string()) } }
                            td { (vs.service.scheduler.as_str()) }
                            td { @if vs.service.flags.persistent { (vs.service.timeout) " s" } @else { "-" } }
                            td.num { (vs.reals.len()) }
                            td { @if vs.enabled { span.badge.up { "enabled" } } @else { span.badge.none { "disabled" } } }
                        }
                    }
                }
            }
            h2 { "Add a virtual server" }
            (service_form(add, "/virtual", "Add virtual server", session, view.read_only.is_some()))
        },
    };
    respond(status, layout("Virtual servers", Some(session), "/virtual", body))
}

pub async fn list<B: Backend>(State(app): State<Arc<App<B>>>, Extension(session): Extension<Session>, Query(q): Query<Saved>) -> Response {
    let view = config_or_note(&app).await;
    let add = FormState::new([("protocol", "tcp".to_owned()), ("scheduler", "wlc".to_owned())]);
    list_page(&session, view.as_ref(), &add, q.saved.as_deref(), StatusCode::OK)
}

pub async fn add<B: Backend>(
    State(app): State<Arc<App<B>>>,
    Extension(session): Extension<Session>,
    peer: Option<Extension<Peer>>,
    Form(pairs): Submitted,
) -> Response {
    let fields = Fields::new(pairs);
    let result = match service::read(&fields) {
        Ok(form) => {
            let target = slug::service(&form.key);
            let what = format!("add virtual server {}", form.key);
            apply(&app, &session, peer.as_deref(), service::add(form), &what).await.map(|a| (target, saved_code(&a)))
        }
        Err(errors) => Err(errors),
    };
    match result {
        Ok((target, saved)) => Redirect::to(&format!("/virtual/{target}?saved={saved}")).into_response(),
        Err(errors) => {
            let view = config_or_note(&app).await;
            list_page(&session, view.as_ref(), &FormState::submitted(fields.values(), errors), None, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

/// The forms of a service's page, with the errors of the one just submitted.
#[derive(Default)]
struct ServiceForms {
    service: Option<FormState>,
    real: Option<FormState>,
    check: Option<FormState>,
    /// The real server whose weight form failed, and its state.
    weight: Option<(String, FormState)>,
    /// An error of a button (enable, delete …).
    action: Option<String>,
}

impl ServiceForms {
    /// A button has no fields: its error, whichever it concerns, goes at the top of the page.
    fn button_error(errors: &Errors) -> Self {
        let message = errors.get("").map(str::to_owned).or_else(|| errors.0.values().next().cloned());
        ServiceForms { action: message, ..Default::default() }
    }
}

/// A real server's row in the table now, to watch a quiesced one drain.
fn in_table<'a>(table: &'a [ServiceEntry], key: &ServiceKey, addr: std::net::IpAddr, port: u16) -> Option<&'a DestEntry> {
    table.iter().find(|s| s.key == *key)?.dests.iter().find(|d| d.addr == addr && d.port == port)
}

fn show_page(
    session: &Session,
    view: &ConfigView,
    table: &[ServiceEntry],
    slug_text: &str,
    forms: ServiceForms,
    saved: Option<&str>,
    status: StatusCode,
) -> Response {
    let Some(vs) = view.config.virtual_servers.iter().find(|vs| slug::service(&vs.service.key) == slug_text) else {
        return respond(StatusCode::NOT_FOUND, layout("Virtual server", Some(session), "/virtual", html! { p.error { "No such virtual server." } a href="/virtual" { "All virtual servers" } }));
    };
    let ro = view.read_only.is_some();
    let base = format!("/virtual/{slug_text}");
    let service_state = forms.service.unwrap_or_else(|| service_values(vs));
    let default_fwd = vs.reals.first().map_or("dr", |r| real::forward_name(r.dest.fwd));
    let real_state = forms.real.unwrap_or_else(|| FormState::new([("weight", "1".to_owned()), ("forward", default_fwd.to_owned())])).prefixed("real-");
    let check_editable = check::editable(vs);
    let check_state = forms
        .check
        .unwrap_or_else(|| FormState::new(check::values(vs.reals.first().and_then(|r| r.checks.first()))))
        .prefixed("check-");
    // A firewall-mark service has no address or port for the service form to show.
    let fwmark6 = matches!(vs.service.key, ServiceKey::Fwmark { af: rvs_core::model::AddressFamily::Inet6, .. });
    let fwmark = matches!(vs.service.key, ServiceKey::Fwmark { .. });
    let body = html! {
        (saved_note(saved))
        @if let Some(r) = &view.read_only { (read_only_note(r)) }
        @if let Some(e) = &forms.action { p.error.form role="alert" { (e) } }
        p { a href="/virtual" { "← all virtual servers" } }
        div.actions {
            @if vs.enabled {
                span.badge.up { "enabled" }
                form method="post" action=(format!("{base}/disable")) { (csrf(session)) button.confirm disabled[ro] data-confirm="Disable this service? Its connections are cut off and new ones are refused; it stays in the file." { "Disable service" } }
            } @else {
                span.badge.none { "disabled" }
                form method="post" action=(format!("{base}/enable")) { (csrf(session)) button disabled[ro] { "Enable service" } }
            }
            form method="post" action=(format!("{base}/delete")) { (csrf(session)) button.danger disabled[ro] { "Delete service" } }
        }
        h2 { "Service" }
        @if fwmark6 { (read_only_note("An IPv6 firewall-mark service is changed in the configuration file; its real servers and check can be changed here.")) }
        @if fwmark { p.muted { "Packets get this mark from rvs's mark rules (rvs mark, or the marks of the configuration file) or from nftables or iptables, as with ipvsadm -f." } }
        (service_form(&service_state, &base, "Save service", session, ro || fwmark6))
        h2 { "Real servers" }
        table.list data-testid="reals" {
            thead { tr { th { "Real server" } th { "Forwarding" } th { "Weight" } th { "State" } th { "In the table now" } th { "" } } }
            tbody {
                @for r in &vs.reals {
                    @let rslug = slug::real(r.dest.addr, r.dest.port);
                    @let rbase = format!("{base}/real/{rslug}");
                    @let weight_state = forms.weight.as_ref().filter(|(s, _)| *s == rslug).map(|(_, st)| st.clone())
                        .unwrap_or_else(|| FormState::new([("weight", r.dest.weight.get().to_string())])).prefixed(&format!("{rslug}-"));
                    tr data-real=(rslug) {
                        td { (super::monitor::dest_text(r.dest.dest_addr())) }
                        td { (real::forward_name(r.dest.fwd)) }
                        td {
                            form.inline method="post" action=(format!("{rbase}/weight")) {
                                (csrf(session))
                                (field(&weight_state, "weight", "Weight", "number", "1"))
                                button disabled[ro] { "Set weight" }
                            }
                        }
                        td {
                            @if r.enabled { span.badge.up { "enabled" } } @else { span.badge.none { "disabled" } }
                            @if r.inhibit_on_failure { " " span.badge.none title="a failed check sets its weight to 0 instead of taking it out" { "inhibit" } }
                        }
                        td.live data-testid="in-table" {
                            @match in_table(table, &vs.service.key, r.dest.addr, r.dest.port) {
                                Some(d) => { "weight " (d.weight.get()) ", " (d.active_conns) " active, " (d.inactive_conns) " inactive" }
                                None => span.muted { "not in the table" },
                            }
                        }
                        td.buttons {
                            form method="post" action=(format!("{rbase}/quiesce")) { (csrf(session)) button disabled[ro] title="weight 0: its connections finish, new ones go elsewhere" { "Quiesce" } }
                            @if r.inhibit_on_failure {
                                form method="post" action=(format!("{rbase}/uninhibit")) { (csrf(session)) button disabled[ro] title="a failed check takes it out of the table (keepalived's default)" { "Remove on failure" } }
                            } @else {
                                form method="post" action=(format!("{rbase}/inhibit")) { (csrf(session)) button disabled[ro] title="inhibit_on_failure: a failed check sets its weight to 0, its connections go on" { "Inhibit on failure" } }
                            }
                            @if r.enabled {
                                form method="post" action=(format!("{rbase}/disable")) { (csrf(session)) button.confirm disabled[ro] data-confirm="Disable this real server? It leaves the table and its connections are cut off; Quiesce lets them finish." { "Disable" } }
                            } @else {
                                form method="post" action=(format!("{rbase}/enable")) { (csrf(session)) button disabled[ro] { "Enable" } }
                            }
                            form method="post" action=(format!("{rbase}/delete")) { (csrf(session)) button.danger disabled[ro] { "Delete" } }
                        }
                    }
                }
            }
        }
        h3 { "Add a real server" }
        form.grid method="post" action=(format!("{base}/real")) data-testid="real-form" {
            (csrf(session))
            fieldset disabled[ro] {
                (form_error(&real_state))
                (field(&real_state, "address", "Address", "text", "192.168.10.2"))
                (field(&real_state, "port", "Port", "number", "service's"))
                (field(&real_state, "weight", "Weight", "number", "1"))
                (select(&real_state, "forward", "Forwarding", FORWARD_OPTIONS))
                button type="submit" { "Add real server" }
            }
        }
        h2 { "Health check" }
        p.muted { "Every real server of the service runs this check; a real server whose check fails leaves the table (or gets weight 0 with inhibit)." }
        @if let Err(why) = &check_editable { (read_only_note(why)) }
        form.grid method="post" action=(format!("{base}/check")) data-testid="check-form" {
            (csrf(session))
            fieldset disabled[ro || check_editable.is_err()] {
                (form_error(&check_state))
                (select(&check_state, "kind", "Check", check::KINDS))
                (field(&check_state, "path", "HTTP path", "text", "/"))
                (field(&check_state, "status", "HTTP status", "number", "2xx"))
                (field(&check_state, "vhost", "HTTP virtual host", "text", "the real server's address"))
                (field(&check_state, "send", "Send", "text", "GET / HTTP/1.0\\r\\n\\r\\n"))
                (field(&check_state, "expect", "Expect", "text", "HTTP"))
                (field(&check_state, "payload", "UDP payload", "text", "empty datagram (\\r \\n \\t escapes)"))
                (checkbox(&check_state, "reply", "A reply must come (else only a refusal fails it)"))
                (select(&check_state, "dns_type", "DNS type", &check::DNS_TYPES.map(|t| (t.name(), t.name()))))
                (field(&check_state, "dns_name", "DNS name", "text", ". (the root)"))
                (field(&check_state, "interval", "Interval (s)", "text", "6"))
                (field(&check_state, "timeout", "Timeout (s)", "text", "5"))
                (field(&check_state, "retry", "Retries", "number", "1"))
                button type="submit" { "Save check" }
            }
        }
    };
    respond(status, layout(&vs.service.key.to_string(), Some(session), "/virtual", body))
}

pub async fn show<B: Backend>(
    State(app): State<Arc<App<B>>>,
    Extension(session): Extension<Session>,
    Path(slug_text): Path<String>,
    Query(q): Query<Saved>,
) -> Response {
    match config_or_note(&app).await {
        Ok(view) => {
            let table = app.backend.services().await;
            show_page(&session, &view, &table, &slug_text, ServiceForms::default(), q.saved.as_deref(), StatusCode::OK)
        }
        Err(note) => respond(StatusCode::OK, layout("Virtual server", Some(&session), "/virtual", note)),
    }
}

/// Applies a change from the service page: back to the page on success, or the page again
/// with the errors on the form they concern.
async fn change<B: Backend>(
    app: &Arc<App<B>>,
    session: &Session,
    peer: Option<&Peer>,
    slug_text: &str,
    outcome: Result<(crate::backend::Edit, String, Option<String>), Errors>,
    on_error: impl FnOnce(Errors) -> ServiceForms,
) -> Response {
    let result = match outcome {
        Ok((edit, what, target)) => apply(app, session, peer, edit, &what).await.map(|a| (target, saved_code(&a))),
        Err(e) => Err(e),
    };
    match result {
        Ok((Some(target), saved)) if target.is_empty() => Redirect::to(&format!("/virtual?saved={saved}")).into_response(),
        Ok((target, saved)) => Redirect::to(&format!("/virtual/{}?saved={saved}", target.as_deref().unwrap_or(slug_text))).into_response(),
        Err(errors) => match config_or_note(app).await {
            Ok(view) => {
                let table = app.backend.services().await;
                show_page(session, &view, &table, slug_text, on_error(errors), None, StatusCode::UNPROCESSABLE_ENTITY)
            }
            Err(note) => respond(StatusCode::UNPROCESSABLE_ENTITY, layout("Virtual server", Some(session), "/virtual", note)),
        },
    }
}

pub async fn update<B: Backend>(
    State(app): State<Arc<App<B>>>,
    Extension(session): Extension<Session>,
    peer: Option<Extension<Peer>>,
    Path(slug_text): Path<String>,
    Form(pairs): Submitted,
) -> Response {
    let fields = Fields::new(pairs);
    let outcome = service::read(&fields).map(|form| {
        let target = slug::service(&form.key);
        let what = format!("change virtual server {slug_text} to {} {} persistence {:?}", form.key, form.scheduler.as_str(), form.persistence);
        (service::update(slug_text.clone(), form), what, Some(target))
    });
    change(&app, &session, peer.as_deref(), &slug_text, outcome, |e| ServiceForms { service: Some(FormState::submitted(fields.values(), e)), ..Default::default() }).await
}

pub async fn service_action<B: Backend>(
    State(app): State<Arc<App<B>>>,
    Extension(session): Extension<Session>,
    peer: Option<Extension<Peer>>,
    Path((slug_text, action)): Path<(String, String)>,
    Form(pairs): Submitted,
) -> Response {
    let fields = Fields::new(pairs);
    let s = slug_text.clone();
    let outcome = match action.as_str() {
        "enable" => Ok((service::set_enabled(s, true), format!("enable virtual server {slug_text}"), None)),
        "disable" => Ok((service::set_enabled(s, false), format!("disable virtual server {slug_text}"), None)),
        "delete" => Ok((service::delete(s), format!("delete virtual server {slug_text}"), Some(String::new()))),
        "check" => check::read(&fields).map(|c| {
            let what = format!("set the check of {slug_text} to {}", c.as_ref().map_or("none", |c| c.kind.keyword()));
            (check::set(s, c), what, None)
        }),
        _ => return super::super::server::refuse(StatusCode::NOT_FOUND, "no such action"),
    };
    let is_check = action == "check";
    change(&app, &session, peer.as_deref(), &slug_text, outcome, |e| {
        if is_check {
            ServiceForms { check: Some(FormState::submitted(fields.values(), e)), ..Default::default() }
        } else {
            ServiceForms::button_error(&e)
        }
    })
    .await
}

pub async fn add_real<B: Backend>(
    State(app): State<Arc<App<B>>>,
    Extension(session): Extension<Session>,
    peer: Option<Extension<Peer>>,
    Path(slug_text): Path<String>,
    Form(pairs): Submitted,
) -> Response {
    let fields = Fields::new(pairs);
    let outcome = real::read(&fields).map(|form| {
        let what = format!("add real server {} port {} weight {} ({}) to {slug_text}", form.addr, form.port, form.weight.get(), real::forward_name(form.fwd));
        (real::add(slug_text.clone(), form), what, None)
    });
    change(&app, &session, peer.as_deref(), &slug_text, outcome, |e| ServiceForms { real: Some(FormState::submitted(fields.values(), e)), ..Default::default() }).await
}

pub async fn real_action<B: Backend>(
    State(app): State<Arc<App<B>>>,
    Extension(session): Extension<Session>,
    peer: Option<Extension<Peer>>,
    Path((slug_text, real_slug, action)): Path<(String, String, String)>,
    Form(pairs): Submitted,
) -> Response {
    let fields = Fields::new(pairs);
    let (s, r) = (slug_text.clone(), real_slug.clone());
    let outcome = match action.as_str() {
        "weight" => real::read_weight(&fields).map(|w| (real::set_weight(s, r, w), format!("set the weight of {real_slug} in {slug_text} to {}", w.get()), None)),
        "quiesce" => Ok((
            real::set_weight(s, r, rvs_core::model::Weight::new(0).unwrap_or_default()),
            format!("quiesce {real_slug} in {slug_text} (weight 0)"),
            None,
        )),
        "inhibit" => Ok((real::set_inhibit(s, r, true), format!("inhibit {real_slug} in {slug_text} on failure"), None)),
        "uninhibit" => Ok((real::set_inhibit(s, r, false), format!("take {real_slug} in {slug_text} out on failure"), None)),
        "enable" => Ok((real::set_enabled(s, r, true), format!("enable {real_slug} in {slug_text}"), None)),
        "disable" => Ok((real::set_enabled(s, r, false), format!("disable {real_slug} in {slug_text}"), None)),
        "delete" => Ok((real::delete(s, r), format!("delete {real_slug} from {slug_text}"), None)),
        _ => return super::super::server::refuse(StatusCode::NOT_FOUND, "no such action"),
    };
    let is_weight = action == "weight";
    change(&app, &session, peer.as_deref(), &slug_text, outcome, |e| {
        if is_weight {
            ServiceForms { weight: Some((real_slug, FormState::submitted(fields.values(), e))), ..Default::default() }
        } else {
            ServiceForms::button_error(&e)
        }
    })
    .await
}
