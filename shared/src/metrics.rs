//! Prometheus helpers shared by both binaries (one registry per binary, DECISIONS 18).

use prometheus::{Encoder, Registry, TextEncoder};

/// A registry with the process collector (RSS, CPU, open fds) already registered.
pub fn new_registry(prefix: &str) -> Registry {
    let registry = Registry::new_custom(Some(prefix.to_owned()), None).unwrap_or_default();
    #[cfg(target_os = "linux")]
    {
        let process = prometheus::process_collector::ProcessCollector::for_self();
        // Registration only fails on a duplicate, which cannot happen on a fresh registry.
        drop(registry.register(Box::new(process)));
    }
    registry
}

/// The registry in Prometheus text format.
pub fn render(registry: &Registry) -> String {
    let mut buf = Vec::new();
    // Encoding into a Vec cannot fail for well-formed metrics; an empty page is the fallback.
    drop(TextEncoder::new().encode(&registry.gather(), &mut buf));
    String::from_utf8(buf).unwrap_or_default()
}

/// Content type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
