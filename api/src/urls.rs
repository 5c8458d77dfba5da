//! Absolute URLs and client addresses, honouring `PUBLIC_BASE_URL` and trusted proxies only.

use std::net::IpAddr;

use actix_web::HttpRequest;
use biologidex_core::config::Settings;

fn from_trusted_proxy(req: &HttpRequest, settings: &Settings) -> bool {
    req.peer_addr()
        .is_some_and(|peer| settings.is_trusted_proxy(peer.ip()))
}

/// `scheme://host` of this server as the client sees it. `X-Forwarded-Proto` and
/// `X-Forwarded-Host` count only when the peer is a trusted proxy (no spoofing).
pub fn base_url(req: &HttpRequest, settings: &Settings) -> String {
    if let Some(base) = &settings.public_base_url {
        return base.clone();
    }
    let info = req.connection_info();
    let trusted = from_trusted_proxy(req, settings);
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned())
    };
    let scheme = trusted
        .then(|| header("x-forwarded-proto"))
        .flatten()
        .filter(|s| s == "http" || s == "https")
        .unwrap_or_else(|| req.connection_info().scheme().to_owned());
    let host = trusted
        .then(|| header("x-forwarded-host"))
        .flatten()
        .or_else(|| {
            req.headers()
                .get("host")
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| info.host().to_owned());
    format!("{scheme}://{host}")
}

/// The client's IP: the socket peer, or the last hop of `X-Forwarded-For` that is not itself a
/// trusted proxy when the request came through one.
pub fn client_ip(req: &HttpRequest, settings: &Settings) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !settings.is_trusted_proxy(peer) {
        return Some(peer);
    }
    let forwarded = req.headers().get("x-forwarded-for")?.to_str().ok()?;
    forwarded
        .split(',')
        .rev()
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .find(|ip| !settings.is_trusted_proxy(*ip))
        .or(Some(peer))
}
