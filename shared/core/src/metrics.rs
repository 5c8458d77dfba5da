//! Prometheus helpers shared by both binaries (one registry per binary, docs/observability.md).

use std::sync::OnceLock;

use prometheus::{Encoder, Registry, TextEncoder};

/// A registry whose metrics carry the binary's prefix (`biologidex_api_...`).
pub fn new_registry(prefix: &str) -> Registry {
    Registry::new_custom(Some(prefix.to_owned()), None).unwrap_or_default()
}

/// The process collector (RSS, CPU, open fds, start time) under its standard unprefixed
/// `process_*` names, which stock dashboards expect: one per process.
fn process_registry() -> &'static Registry {
    static PROCESS: OnceLock<Registry> = OnceLock::new();
    PROCESS.get_or_init(|| {
        let registry = Registry::new();
        #[cfg(target_os = "linux")]
        {
            let process = prometheus::process_collector::ProcessCollector::for_self();
            // Registration only fails on a duplicate, which cannot happen on a fresh registry.
            drop(registry.register(Box::new(process)));
        }
        registry
    })
}

/// The registry and the process metrics in Prometheus text format.
pub fn render(registry: &Registry) -> String {
    let mut families = registry.gather();
    families.extend(process_registry().gather());
    let mut buf = Vec::new();
    // Encoding into a Vec cannot fail for well-formed metrics; an empty page is the fallback.
    drop(TextEncoder::new().encode(&families, &mut buf));
    String::from_utf8(buf).unwrap_or_default()
}

/// Content type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
