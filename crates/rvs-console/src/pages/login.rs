//! Logging in and out. A wrong password is answered late, later each time from the same
//! address (auth::throttle), and logged with the user name tried and the address, never the
//! password.

use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::{FormState, field, form_error, layout, respond};
use crate::auth::passwd::{DEFAULT_USER, PasswordFile};
use crate::auth::session;
use crate::auth::throttle::LoginThrottle;
use crate::backend::Backend;
use crate::forms::fields::Errors;
use crate::server::{App, Peer, Session};

fn login_page(status: StatusCode, state: &FormState) -> Response {
    respond(
        status,
        layout(
            "Log in",
            None,
            "",
            html! {
                form.login method="post" action="/login" {
                    (form_error(state))
                    (field(state, "user", "User", "text", ""))
                    (field(state, "password", "Password", "password", ""))
                    button type="submit" { "Log in" }
                }
                p.hint { "The password is set on the director with " code { "rvs passwd" } "." }
            },
        ),
    )
}


pub async fn page<B: Backend>(State(_app): State<Arc<App<B>>>) -> Response {
    login_page(StatusCode::OK, &FormState::new([("user", DEFAULT_USER.to_owned())]))
}

pub async fn submit<B: Backend>(
    State(app): State<Arc<App<B>>>,
    peer: Option<Extension<Peer>>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str()).to_owned();
    let (user, password) = (get("user"), get("password"));
    let ip = peer.map_or(std::net::IpAddr::from([0u8; 4]), |p| p.0.0.ip());
    let begun = lock(&app.throttle).begin(ip, Instant::now());
    if let Err(wait) = begun {
        // Debug, not warn: a flood of refused attempts must not drown the director's log (the
        // failures that earned the wait were logged).
        tracing::debug!(from = %ip, "console: login refused: too many failed logins from this address, or one being checked");
        // Whole seconds, rounded up: a client waiting that long is not refused again.
        let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        let mut state = FormState::new([("user", user)]);
        state.errors.add("", format!("Too many failed logins from your address: try again in {secs} s."));
        let mut response = login_page(StatusCode::TOO_MANY_REQUESTS, &state);
        response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        return response;
    }
    let _attempt = Attempt { app: app.clone(), ip };
    let file = app.password_file.clone();
    let (u, p) = (user.clone(), password);
    let checked = {
        // A few checks at once at most, each holding argon2's 19 MiB while it runs; the permit
        // is held for the check only, not for the failure's delay below.
        let Ok(_permit) = app.verifying.acquire().await else {
            return super::super::server::refuse(StatusCode::SERVICE_UNAVAILABLE, "the console is stopping");
        };
        // argon2 takes tens of milliseconds on purpose: off the async workers.
        tokio::task::spawn_blocking(move || match PasswordFile::load(&file) {
            Ok(f) => Ok((f.verify(&u, &p).then(|| f.credential(&u).map(str::to_owned)).flatten(), f.credential(&u).is_some())),
            Err(e) => Err(e.to_string()),
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()))
    };
    match checked {
        Ok((Some(credential), _)) => {
            lock(&app.throttle).succeeded(ip);
            let created = app.sessions.lock().await.create(&user, &credential, Instant::now());
            match created {
                Ok(new) => {
                    tracing::info!(user = %user, from = %ip, "console: logged in");
                    let cookie = session::set_cookie(&new.token, app.secure);
                    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
                }
                Err(e) => {
                    tracing::error!("console: {e}");
                    super::super::server::refuse(StatusCode::INTERNAL_SERVER_ERROR, "no session could be made")
                }
            }
        }
        Ok((None, known)) => {
            let delay = lock(&app.throttle).failed(ip, Instant::now());
            // A name that is no user may be a password typed in the wrong field: not logged.
            let who = if known { user.as_str() } else { "(not a user)" };
            tracing::warn!(user = %who, from = %ip, delay_secs = delay.as_secs_f64(), "console: failed login");
            tokio::time::sleep(delay).await;
            let mut state = FormState::new([("user", user)]);
            state.errors = Errors::default();
            state.errors.add("", "Wrong user or password.");
            login_page(StatusCode::UNAUTHORIZED, &state)
        }
        Err(e) => {
            tracing::error!("console: login impossible: {e}");
            let mut state = FormState::new([("user", user)]);
            state.errors.add("", "The password file cannot be read: see rvsd's log.");
            login_page(StatusCode::SERVICE_UNAVAILABLE, &state)
        }
    }
}

/// Ends the attempt [`LoginThrottle::begin`] started, also when the client hangs up mid-check
/// (the handler is dropped then).
struct Attempt<B: Backend> {
    app: Arc<App<B>>,
    ip: std::net::IpAddr,
}

impl<B: Backend> Drop for Attempt<B> {
    fn drop(&mut self) {
        lock(&self.app.throttle).end(self.ip);
    }
}

/// The throttle's lock; its sections are short and never wait, and a panic in one leaves the
/// counts usable.
fn lock(throttle: &std::sync::Mutex<LoginThrottle>) -> std::sync::MutexGuard<'_, LoginThrottle> {
    throttle.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub async fn logout<B: Backend>(State(app): State<Arc<App<B>>>, Extension(session): Extension<Session>) -> Response {
    app.sessions.lock().await.remove(&session.token);
    tracing::info!(user = %session.view.user, "console: logged out");
    ([(header::SET_COOKIE, session::clear_cookie(app.secure))], Redirect::to("/login")).into_response()
}
