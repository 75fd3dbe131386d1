//! The Prometheus endpoint (`--metrics ADDR:PORT`, `GET /metrics`): the numbers `ipvsadm -Ln
//! --stats` shows, under the names node_exporter's IPVS collector gives them, so that
//! dashboards and alerts written for an IPVS director keep working; and the data plane's own
//! verdict counters (`rvs stats`) as `rvs_dataplane_packets_total{verdict=...}`.
//!
//! The totals (`node_ipvs_connections_total` and the packet and byte counters) are the sums
//! over the configured services, where node_exporter reads the kernel's global counters (which
//! also keep what deleted services counted).

use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rvs_core::model::{ServiceKey, Stats64};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

use crate::config_file::ConfigFile;
use crate::director::Director;

/// The Prometheus text format's content type.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One real server's row: its labels and the numbers `-Ln` shows for it.
pub struct Backend {
    /// `local_address`, `local_mark`, `local_port`, `proto` (the virtual service) and
    /// `remote_address`, `remote_port` (the real server), node_exporter's labels.
    pub labels: [(&'static str, String); 6],
    /// ActiveConn.
    pub active: u32,
    /// InActConn.
    pub inactive: u32,
    /// Weight.
    pub weight: u32,
}

/// node_exporter's labels of a virtual service (address, mark, port, protocol), in the
/// alphabetical order Prometheus clients print labels in.
pub fn service_labels(key: &ServiceKey) -> [(&'static str, String); 4] {
    match key {
        ServiceKey::Addr { protocol, addr, port } => [
            ("local_address", addr.to_string()),
            ("local_mark", String::new()),
            ("local_port", port.to_string()),
            ("proto", protocol.name().to_owned()),
        ],
        ServiceKey::Fwmark { mark, .. } => [
            ("local_address", String::new()),
            ("local_mark", mark.get().to_string()),
            ("local_port", "0".to_owned()),
            ("proto", String::new()),
        ],
    }
}

/// Renders the metrics page from the services' totals, the real servers' rows and the data
/// plane's verdict counters.
pub fn render(services: &[Stats64], backends: &[Backend], verdicts: &[(String, u64)]) -> String {
    let mut out = String::new();
    let sum = |f: fn(&Stats64) -> u64| services.iter().map(f).fold(0u64, u64::saturating_add);
    for (name, help, value) in [
        ("node_ipvs_connections_total", "The total number of connections made.", sum(|s| s.conns)),
        ("node_ipvs_incoming_packets_total", "The total number of incoming packets.", sum(|s| s.inpkts)),
        ("node_ipvs_outgoing_packets_total", "The total number of outgoing packets.", sum(|s| s.outpkts)),
        ("node_ipvs_incoming_bytes_total", "The total amount of incoming data.", sum(|s| s.inbytes)),
        ("node_ipvs_outgoing_bytes_total", "The total amount of outgoing data.", sum(|s| s.outbytes)),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
    }
    for (name, help, value) in [
        (
            "node_ipvs_backend_connections_active",
            "The current active connections by local and remote address.",
            (|b: &Backend| u64::from(b.active)) as fn(&Backend) -> u64,
        ),
        (
            "node_ipvs_backend_connections_inactive",
            "The current inactive connections by local and remote address.",
            |b: &Backend| u64::from(b.inactive),
        ),
        ("node_ipvs_backend_weight", "The current backend weight by local and remote address.", |b: &Backend| {
            u64::from(b.weight)
        }),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for b in backends {
            let labels: Vec<String> = b.labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
            let _ = writeln!(out, "{name}{{{}}} {}", labels.join(","), value(b));
        }
    }
    let name = "rvs_dataplane_packets_total";
    let _ = writeln!(
        out,
        "# HELP {name} Packets by what the XDP data plane did with them (rvs stats).\n# TYPE {name} counter"
    );
    for (verdict, n) in verdicts {
        let _ = writeln!(out, "{name}{{verdict=\"{}\"}} {n}", escape(verdict));
    }
    out
}

/// `rvs_real_server_up`: 1 while a real server of the configuration file passes its checks.
pub fn render_health(reals: &[rvs_core::control::RealStatus]) -> String {
    let name = "rvs_real_server_up";
    let mut out = format!("# HELP {name} Whether the real server passes its health checks (1) or not (0).\n# TYPE {name} gauge\n");
    for r in reals {
        let mut labels: Vec<String> = service_labels(&r.service).iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
        labels.push(format!("remote_address=\"{}\"", r.dest.addr));
        labels.push(format!("remote_port=\"{}\"", r.dest.port));
        let _ = writeln!(out, "{name}{{{}}} {}", labels.join(","), u8::from(r.up));
    }
    out
}

/// A label value in the text format: backslash, double quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Serves `GET /metrics` until aborted.
pub async fn serve(listener: TcpListener, director: Arc<Mutex<Director>>, config: Option<Arc<ConfigFile>>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "accept on the metrics listener failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let director = director.clone();
        let config = config.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let director = director.clone();
                let config = config.clone();
                async move { Ok::<_, Infallible>(respond(&request, &director, config.as_deref()).await) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "metrics connection ended");
            }
        });
    }
}

async fn respond<B>(request: &Request<B>, director: &Mutex<Director>, config: Option<&ConfigFile>) -> Response<Full<Bytes>> {
    let (status, body) = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => {
            let mut body = director.lock().await.metrics();
            if let Some(config) = config {
                body.push_str(&render_health(&config.health().await));
            }
            (StatusCode::OK, body)
        }
        (_, "/metrics") => (StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD\n".to_owned()),
        _ => (StatusCode::NOT_FOUND, "rvsd serves /metrics only\n".to_owned()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(TEXT_FORMAT));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(addr: &str, active: u32, inactive: u32, weight: u32) -> Backend {
        let key = ServiceKey::Addr { protocol: rvs_core::model::Protocol::Tcp, addr: "192.168.0.100".parse().expect("addr"), port: 80 };
        let [a, b, c, d] = service_labels(&key);
        Backend { labels: [a, b, c, d, ("remote_address", addr.to_owned()), ("remote_port", "80".to_owned())], active, inactive, weight }
    }

    #[test]
    fn real_server_health_is_a_gauge_with_the_backend_labels() {
        let reals = [rvs_core::control::RealStatus {
            service: ServiceKey::Addr { protocol: rvs_core::model::Protocol::Tcp, addr: "192.168.1.250".parse().expect("addr"), port: 80 },
            dest: rvs_core::model::DestAddr { addr: "10.0.0.100".parse().expect("addr"), port: 8080 },
            up: false,
            table_weight: None,
            since_secs: 0,
            reason: String::new(),
            quorum_up: true,
            checks: Vec::new(),
        }];
        let text = render_health(&reals);
        assert!(text.contains("# TYPE rvs_real_server_up gauge\n"), "{text}");
        assert!(
            text.ends_with("rvs_real_server_up{local_address=\"192.168.1.250\",local_mark=\"\",local_port=\"80\",proto=\"TCP\",remote_address=\"10.0.0.100\",remote_port=\"8080\"} 0\n"),
            "{text}"
        );
    }

    #[test]
    fn node_exporter_names_and_labels() {
        let services = [
            Stats64 { conns: 10, inpkts: 100, outpkts: 0, inbytes: 6000, outbytes: 0 },
            Stats64 { conns: 2, inpkts: 4, outpkts: 4, inbytes: 300, outbytes: 500 },
        ];
        let text = render(&services, &[backend("192.168.0.11", 3, 7, 1)], &[("fwd_dr_tx".to_owned(), 104)]);
        assert!(text.contains("# TYPE node_ipvs_connections_total counter\nnode_ipvs_connections_total 12\n"), "{text}");
        assert!(text.contains("node_ipvs_incoming_packets_total 104\n"), "{text}");
        assert!(text.contains("node_ipvs_outgoing_bytes_total 500\n"), "{text}");
        let labels = r#"{local_address="192.168.0.100",local_mark="",local_port="80",proto="TCP",remote_address="192.168.0.11",remote_port="80"}"#;
        assert!(text.contains(&format!("node_ipvs_backend_connections_active{labels} 3\n")), "{text}");
        assert!(text.contains(&format!("node_ipvs_backend_connections_inactive{labels} 7\n")), "{text}");
        assert!(text.contains(&format!("node_ipvs_backend_weight{labels} 1\n")), "{text}");
        assert!(text.contains("rvs_dataplane_packets_total{verdict=\"fwd_dr_tx\"} 104\n"), "{text}");
    }

    #[test]
    fn fwmark_services_have_a_mark_and_no_address() {
        let key = ServiceKey::Fwmark { af: rvs_core::model::AddressFamily::Inet, mark: rvs_core::model::Fwmark::new(42).expect("mark") };
        let labels = service_labels(&key);
        assert_eq!(labels[0].1, "");
        assert_eq!(labels[1].1, "42");
        assert_eq!(labels[2].1, "0");
        assert_eq!(escape("a\"b\\c"), "a\\\"b\\\\c");
    }
}
