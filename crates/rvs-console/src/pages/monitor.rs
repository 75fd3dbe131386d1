//! CONTROL/MONITORING: the table as `rvsadm -Ln` lists it, with what it cannot show: each real
//! server's health and last check, the director's VRRP role and peer, the connections, and
//! each service's rates over the last hour. The live part is one fragment the page's script
//! fetches again every two seconds; without script, the page is the same at each reload.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use rvs_core::control::RealStatus;
use rvs_core::ipvsadm::fwd_name;
use rvs_core::model::{DestAddr, ServiceEntry, ServiceKey};
use serde_json::json;

use super::{layout, respond};
use crate::backend::{Backend, CONNECTIONS_SHOWN, Facts, Snapshot};
use crate::server::{App, Session};



/// ipvsadm's flags column: `persistent 300` and scheduler flags.
fn flags(s: &ServiceEntry) -> String {
    let mut out = Vec::new();
    if s.flags.persistent {
        out.push(format!("persistent {}", s.timeout));
    }
    if s.flags.one_packet {
        out.push("ops".to_owned());
    }
    out.join(" ")
}

/// `10.0.0.2:80`, `[2001:db8::2]:80`.
pub fn dest_text(d: DestAddr) -> String {
    std::net::SocketAddr::new(d.addr, d.port).to_string()
}

fn health_of<'a>(health: &'a [RealStatus], key: &ServiceKey, dest: DestAddr) -> Option<&'a RealStatus> {
    health.iter().find(|h| h.service == *key && h.dest == dest)
}

/// Human numbers for rates: 1.2K, 3.4M.
fn human(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}K", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{:.1}G", n as f64 / 1e9),
    }
}

fn since(secs: u64) -> String {
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs / 60),
        _ => format!("{} h", secs / 3600),
    }
}

/// The live part of the page.
pub fn live(snapshot: &Snapshot, facts: &Facts, router_id: Option<&str>) -> Markup {
    html! {
        section.cards {
            div.card {
                h2 { "Director" }
                p { (router_id.unwrap_or("(no router_id)")) " · instance " (facts.instance) }
                p { "Interfaces: " (facts.interfaces.join(", ")) }
                @if let Some(n) = &facts.nat_router { p { "NAT router: " (n) } }
            }
            div.card {
                h2 { "VRRP" }
                @if snapshot.vrrp.is_empty() { p.muted { "No VRRP instance: this director runs alone." } }
                @for v in &snapshot.vrrp {
                    p {
                        span class=(format!("role role-{}", v.state.to_ascii_lowercase())) data-testid="vrrp-state" { (v.state) }
                        " " (v.instance) " on " (v.interface) ", priority " (v.priority)
                    }
                    p {
                        "Master: " (v.master.map_or("none heard".to_owned(), |m| m.to_string()))
                        @if !v.peers.is_empty() { " · peers " (v.peers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) }
                    }
                    p.muted { "Addresses: " (v.addresses.join(", ")) }
                }
            }
            div.card {
                h2 { "Connections" }
                p.big data-testid="connections" { (snapshot.connection_count) }
                @for d in &snapshot.sync { p.muted { "sync " (d.state.name()) " on " (d.ifname.as_str()) ", syncid " (d.syncid) } }
            }
        }
        section {
            h2 { "Virtual servers" }
            table.ipvs data-testid="table" {
                thead { tr {
                    th { "Prot LocalAddress:Port" } th { "Scheduler" } th { "Flags" }
                    th.num { "Weight" } th.num { "ActiveConn" } th.num { "InActConn" }
                    th.num { "Conn/s" } th.num { "Pkts/s" } th.num { "Bytes/s" } th { "Health" } th { "Last check" }
                } }
                @for s in &snapshot.services {
                    tbody {
                        tr.service {
                            td { (s.key.to_string()) }
                            td { (s.scheduler.as_ref().map_or("none", |x| x.as_str())) }
                            td { (flags(s)) }
                            td {} td {} td {}
                            td.num { (human(s.rates.cps)) }
                            td.num { (human(s.rates.inpps + s.rates.outpps)) }
                            td.num { (human(s.rates.inbps + s.rates.outbps)) }
                            td {} td {}
                        }
                        @for d in &s.dests {
                            @let h = health_of(&snapshot.health, &s.key, DestAddr { addr: d.addr, port: d.port });
                            tr.real data-real=(format!("{}:{}", d.addr, d.port)) {
                                td { "  -> " (dest_text(DestAddr { addr: d.addr, port: d.port })) " " span.muted { (fwd_name(d.fwd)) } }
                                td {} td {}
                                td.num data-testid="weight" { (d.weight.get()) }
                                td.num { (d.active_conns) }
                                td.num { (d.inactive_conns) }
                                td.num { (human(d.rates.cps)) }
                                td.num { (human(d.rates.inpps + d.rates.outpps)) }
                                td.num { (human(d.rates.inbps + d.rates.outbps)) }
                                (health_cell(h))
                                (last_check_cell(h))
                            }
                        }
                        // Real servers of the file that are out of the table (down, or disabled).
                        @for h in snapshot.health.iter().filter(|h| h.service == s.key && !s.dests.iter().any(|d| d.addr == h.dest.addr && d.port == h.dest.port)) {
                            tr.real.out data-real=(dest_text(h.dest)) {
                                td { "  -> " (dest_text(h.dest)) " " span.muted { "(not in the table)" } }
                                td {} td {} td.num data-testid="weight" { "-" } td {} td {} td {} td {} td {}
                                (health_cell(Some(h)))
                                (last_check_cell(Some(h)))
                            }
                        }
                    }
                }
            }
            @if snapshot.services.is_empty() { p.muted { "The table is empty. Add a virtual server on the " a href="/virtual" { "Virtual servers" } " page." } }
        }
        section {
            h2 { "Connections" }
            table.conns {
                thead { tr { th { "Pro" } th { "Client" } th { "Virtual" } th { "Real server" } th { "State" } th.num { "Expires" } } }
                tbody {
                    @for c in snapshot.connections.iter().take(CONNECTIONS_SHOWN) {
                        tr { td { (format!("{:?}", c.protocol).to_uppercase()) } td { (c.client) } td { (c.virtual_addr) } td { (c.dest) } td { (c.state) } td.num { (c.expires) " s" } }
                    }
                }
            }
            @if snapshot.connection_count > snapshot.connections.len() {
                p.muted { "… and " (snapshot.connection_count - snapshot.connections.len()) " more (rvsadm -Lnc lists them all)." }
            }
        }
    }
}

fn health_cell(h: Option<&RealStatus>) -> Markup {
    html! {
        @match h {
            None => td.health { span.badge.none { "no check" } },
            Some(h) => td.health {
                @if h.up { span.badge.up data-testid="health" { "UP" } } @else { span.badge.down data-testid="health" { "DOWN" } }
                " " span.muted { (since(h.since_secs)) }
            },
        }
    }
}

fn last_check_cell(h: Option<&RealStatus>) -> Markup {
    html! {
        td.last {
            @if let Some(h) = h {
                @for c in &h.checks {
                    span.check { (c.kind) ": " (c.last.as_deref().unwrap_or("not run yet"))
                        @if let Some(ago) = c.last_secs_ago { span.muted { " (" (since(ago)) " ago)" } } }
                }
                @if h.checks.is_empty() { span.muted { (h.reason) } }
            }
        }
    }
}

async fn read<B: Backend>(app: &App<B>) -> (Snapshot, Facts, Option<String>) {
    let snapshot = app.backend.snapshot().await;
    let router_id = app.backend.config().await.and_then(|c| c.config.router_id);
    (snapshot, app.backend.facts(), router_id)
}

pub async fn page<B: Backend>(State(app): State<Arc<App<B>>>, Extension(session): Extension<Session>) -> Response {
    let (snapshot, facts, router_id) = read(&app).await;
    let body = html! {
        div #live data-src="/fragment/monitor" { (live(&snapshot, &facts, router_id.as_deref())) }
        section {
            h2 { "Rates over the last hour" }
            p.muted { "One point every 5 s; the charts fill as rvsd samples the table." }
            div #charts data-src="/api/history" {}
        }
    };
    respond(StatusCode::OK, layout("Monitor", Some(&session), "/", body))
}

pub async fn fragment<B: Backend>(State(app): State<Arc<App<B>>>) -> Response {
    let (snapshot, facts, router_id) = read(&app).await;
    Html(live(&snapshot, &facts, router_id.as_deref()).into_string()).into_response()
}

/// The same as JSON, for scripts.
pub async fn status_json<B: Backend>(State(app): State<Arc<App<B>>>) -> Response {
    let (snapshot, facts, router_id) = read(&app).await;
    let services: Vec<_> = snapshot
        .services
        .iter()
        .map(|s| {
            let dests: Vec<_> = s
                .dests
                .iter()
                .map(|d| {
                    let dest = DestAddr { addr: d.addr, port: d.port };
                    let h = health_of(&snapshot.health, &s.key, dest);
                    json!({
                        "address": dest_text(dest), "forward": fwd_name(d.fwd), "weight": d.weight.get(),
                        "active": d.active_conns, "inactive": d.inactive_conns, "stats": d.stats, "rates": rates(&d.rates),
                        "up": h.map(|h| h.up), "reason": h.map(|h| h.reason.clone()),
                    })
                })
                .collect();
            json!({ "service": s.key.to_string(), "scheduler": s.scheduler.as_ref().map(|x| x.as_str().to_owned()),
                    "flags": flags(s), "stats": s.stats, "rates": rates(&s.rates), "reals": dests })
        })
        .collect();
    let vrrp: Vec<_> = snapshot
        .vrrp
        .iter()
        .map(|v| json!({ "instance": v.instance, "state": v.state, "priority": v.priority, "master": v.master, "peers": v.peers }))
        .collect();
    let health: Vec<_> = snapshot
        .health
        .iter()
        .map(|h| json!({ "service": h.service.to_string(), "real": dest_text(h.dest), "up": h.up, "reason": h.reason, "weight": h.table_weight }))
        .collect();
    Json(json!({
        "router_id": router_id, "instance": facts.instance, "interfaces": facts.interfaces,
        "services": services, "health": health, "vrrp": vrrp, "connections": snapshot.connection_count,
    }))
    .into_response()
}

fn rates(r: &rvs_core::model::Rates) -> serde_json::Value {
    json!({ "cps": r.cps, "inpps": r.inpps, "outpps": r.outpps, "inbps": r.inbps, "outbps": r.outbps })
}

pub async fn history_json<B: Backend>(State(app): State<Arc<App<B>>>) -> Response {
    let history = app.history.lock().await;
    Json(json!({ "period": crate::history::PERIOD.as_secs(), "charts": history.charts() })).into_response()
}
