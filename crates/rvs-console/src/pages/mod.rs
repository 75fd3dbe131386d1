//! The console's pages, drawn on the server with maud (which escapes every value it is given):
//! the pages work without JavaScript; the monitor's script only refreshes the live part and
//! draws the charts.

pub mod global;
pub mod login;
pub mod monitor;
pub mod redundancy;
pub mod virtuals;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use crate::backend::{Applied, ApplyError, Backend, Edit};
use crate::forms::fields::Errors;
use crate::server::{App, Peer, Session};

/// The navigation: path, label.
const NAV: &[(&str, &str)] = &[("/", "Monitor"), ("/virtual", "Virtual servers"), ("/global", "Global settings"), ("/redundancy", "Redundancy")];

/// A whole page.
pub fn layout(title: &str, session: Option<&Session>, active: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · rvs console" }
                link rel="stylesheet" href="/static/console.css";
                script src="/static/console.js" defer {}
            }
            body {
                header.top {
                    span.brand { "rvs" small { " console" } }
                    @if let Some(s) = session {
                        nav {
                            @for (path, label) in NAV {
                                a href=(path) class=[(*path == active).then_some("active")] { (label) }
                            }
                        }
                        form.logout method="post" action="/logout" {
                            (csrf(s))
                            span.user { (s.view.user) }
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// The hidden field every form carries.
pub fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.view.csrf); }
}

/// A page as a response.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// A form as it is drawn: its values (the configuration's, or what was submitted) and the errors
/// of the last submission.
#[derive(Debug, Default, Clone)]
pub struct FormState {
    pub values: BTreeMap<String, String>,
    pub errors: Errors,
    /// Put before each input's id, so that two forms of one page (the service's and the real
    /// server's `address`) do not share ids and their labels point at their own inputs.
    pub id_prefix: String,
}

impl FormState {
    pub fn new<K: Into<String>>(values: impl IntoIterator<Item = (K, String)>) -> Self {
        FormState { values: values.into_iter().map(|(k, v)| (k.into(), v)).collect(), errors: Errors::default(), id_prefix: String::new() }
    }

    /// The same form with its inputs' ids prefixed.
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.id_prefix = prefix.to_owned();
        self
    }

    fn id(&self, name: &str) -> String {
        format!("{}{name}", self.id_prefix)
    }

    pub fn submitted(values: &BTreeMap<String, String>, errors: Errors) -> Self {
        let mut values = values.clone();
        values.remove("csrf");
        FormState { values, errors, id_prefix: String::new() }
    }

    pub fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors.get(name)
    }
}

/// A labelled input, with its error under it.
pub fn field(state: &FormState, name: &str, label: &str, kind: &str, hint: &str) -> Markup {
    let error = state.error(name);
    let id = state.id(name);
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) name=(name) type=(kind) value=(state.value(name)) placeholder=(hint)
                aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| format!("{id}-error"))];
            @if let Some(e) = error { span.error id=(format!("{id}-error")) role="alert" { (e) } }
        }
    }
}

/// A labelled multi-line input.
pub fn textarea(state: &FormState, name: &str, label: &str, hint: &str) -> Markup {
    let error = state.error(name);
    let id = state.id(name);
    html! {
        div.field {
            label for=(id) { (label) }
            textarea id=(id) name=(name) rows="3" placeholder=(hint) aria-invalid=[error.map(|_| "true")] { (state.value(name)) }
            @if let Some(e) = error { span.error id=(format!("{id}-error")) role="alert" { (e) } }
        }
    }
}

/// A labelled select.
pub fn select(state: &FormState, name: &str, label: &str, options: &[(&str, &str)]) -> Markup {
    let error = state.error(name);
    let id = state.id(name);
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name) aria-invalid=[error.map(|_| "true")] {
                @for (value, text) in options {
                    option value=(value) selected[state.value(name) == *value] { (text) }
                }
            }
            @if let Some(e) = error { span.error id=(format!("{id}-error")) role="alert" { (e) } }
        }
    }
}

/// A labelled checkbox.
pub fn checkbox(state: &FormState, name: &str, label: &str) -> Markup {
    let id = state.id(name);
    html! {
        div.field.check {
            input id=(id) name=(name) type="checkbox" checked[state.values.contains_key(name)];
            label for=(id) { (label) }
        }
    }
}

/// The form's own error (not of one field), if any.
pub fn form_error(state: &FormState) -> Markup {
    html! { @if let Some(e) = state.errors.get("") { p.error.form role="alert" { (e) } } }
}

/// What a change reports back on the page after it was applied.
pub fn saved_note(saved: Option<&str>) -> Markup {
    let text = match saved {
        Some("1") => "Applied and saved.",
        Some("restart") => "Saved. VRRP and sync changes take effect when rvsd restarts: move the VIPs to the peer first, since a restarted director starts with an empty connection table.",
        Some("warn") => "Applied and saved, with warnings: rvsd's log has them.",
        _ => return html! {},
    };
    html! { p.saved role="status" { (text) } }
}

/// The `saved` note a page shows after a change.
pub fn saved_code(applied: &Applied) -> &'static str {
    if applied.warnings.is_empty() { "1" } else { "warn" }
}

/// Who made a change, for the log: the user and the address they came from.
pub fn who(session: &Session, peer: Option<&Peer>) -> String {
    match peer {
        Some(p) => format!("{} from {}", session.view.user, p.0.ip()),
        None => session.view.user.clone(),
    }
}

/// Applies an edit and logs it; a refusal comes back as the errors to draw on the form.
pub async fn apply<B: Backend>(app: &Arc<App<B>>, session: &Session, peer: Option<&Peer>, edit: Edit, what: &str) -> Result<Applied, Errors> {
    let who = who(session, peer);
    match app.backend.apply(edit, &who, what).await {
        Ok(applied) => {
            tracing::info!(who, change = what, "console: change applied and saved");
            for warning in &applied.warnings {
                tracing::warn!(who, change = what, "console: {warning}");
            }
            Ok(applied)
        }
        Err(e) => {
            tracing::warn!(who, change = what, "console: change refused, nothing applied: {e}");
            let mut errors = Errors::default();
            match e {
                ApplyError::Edit(edit) => errors.add(edit.field.unwrap_or(""), edit.message),
                other => errors.add("", other.to_string()),
            }
            Err(errors)
        }
    }
}

/// A submitted form through to its change: read the fields, describe the change for the log,
/// apply it. Errors are the fields' (nothing applied) or the change's refusal.
pub async fn read_and_apply<B: Backend, F>(
    app: &Arc<App<B>>,
    session: &Session,
    peer: Option<&Peer>,
    fields: &crate::forms::fields::Fields,
    read: impl FnOnce(&crate::forms::fields::Fields) -> Result<F, Errors>,
    describe: impl FnOnce(&F) -> String,
    edit: impl FnOnce(F) -> Edit,
) -> Result<Applied, Errors> {
    let form = read(fields)?;
    let what = describe(&form);
    apply(app, session, peer, edit(form), &what).await
}

/// The banner of a configuration the console does not change.
pub fn read_only_note(reason: &str) -> Markup {
    html! { p.readonly role="note" { (reason) } }
}
