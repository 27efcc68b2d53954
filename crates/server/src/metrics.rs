//! Request counts and latencies per route template and status, and live
//! sync's sockets, messages and push latency, in the Prometheus text format
//! at `GET /metrics`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use basic_admin_app::mail::MailStats;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    Encoder as _, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// One registry per server, so that several servers in one process (tests)
/// keep their counts apart.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pub sync: SyncMetrics,
}

/// Live sync's figures.
#[derive(Clone)]
pub struct SyncMetrics {
    /// Sockets open now.
    pub sockets: IntGauge,
    /// Messages by direction (`in`, `out`) and type.
    pub messages: IntCounterVec,
    /// Client changes stored.
    pub changes_applied: IntCounter,
    /// From a write being heard on this node to its push being sent.
    pub push_latency: Histogram,
    /// Sockets closed by the server, by reason (the error code, `idle`, `slow`).
    pub closed: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by method, route template and status."),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer HTTP requests, by method and route template.",
            )
            .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["method", "route"],
        )
        .expect("valid metric");
        registry.register(Box::new(requests.clone())).expect("registered once");
        registry.register(Box::new(latency.clone())).expect("registered once");
        let sync = SyncMetrics {
            sockets: IntGauge::new("sync_sockets_open", "Live sync sockets open on this node.").expect("valid metric"),
            messages: IntCounterVec::new(
                Opts::new("sync_messages_total", "Live sync messages, by direction (in, out) and type."),
                &["direction", "type"],
            )
            .expect("valid metric"),
            changes_applied: IntCounter::new("sync_changes_applied_total", "Changes from sync clients stored.")
                .expect("valid metric"),
            push_latency: Histogram::with_opts(
                HistogramOpts::new(
                    "sync_push_latency_seconds",
                    "From a write being heard on this node to the changes being sent to a device.",
                )
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
            )
            .expect("valid metric"),
            closed: IntCounterVec::new(
                Opts::new("sync_sockets_closed_total", "Sync sockets the server closed, by reason."),
                &["reason"],
            )
            .expect("valid metric"),
        };
        registry.register(Box::new(sync.sockets.clone())).expect("registered once");
        registry.register(Box::new(sync.messages.clone())).expect("registered once");
        registry.register(Box::new(sync.changes_applied.clone())).expect("registered once");
        registry.register(Box::new(sync.push_latency.clone())).expect("registered once");
        registry.register(Box::new(sync.closed.clone())).expect("registered once");
        Self { registry, requests, latency, sync }
    }

    /// Everything, with the mail figures when mail is on.
    pub fn render(&self, mail: Option<&MailStats>) -> String {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out).expect("text encoding cannot fail");
        let mut text = String::from_utf8(out).expect("the text format is UTF-8");
        if let Some(mail) = mail {
            text.push_str(&mail_figures(mail));
        }
        text
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.latency.with_label_values(&[method, route]).observe(seconds);
    }
}

/// The mailer keeps its own counters (it knows no Prometheus): written out
/// in the same text format.
fn mail_figures(mail: &MailStats) -> String {
    let read = |n: &AtomicU64| n.load(Ordering::Relaxed);
    [
        ("mail_sent_total", "counter", "Letters the SMTP server accepted.", read(&mail.sent)),
        (
            "mail_failed_attempts_total",
            "counter",
            "Attempts to hand a letter to the SMTP server that failed.",
            read(&mail.failed_attempts),
        ),
        (
            "mail_undelivered_total",
            "counter",
            "Letters given up on: refused for good, out of retries, or not queued.",
            read(&mail.undelivered),
        ),
        ("mail_queued", "gauge", "Letters waiting to be sent.", read(&mail.queued)),
    ]
    .iter()
    .map(|(name, kind, help, value)| format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"))
    .collect()
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Middleware: records every request under its route template (`/project/{id}`),
/// or `unmatched`, so that labels stay few whatever the paths requested.
pub async fn record(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let response = next.run(request).await;
    metrics.observe(&method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}
