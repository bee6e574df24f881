//! nemo-emulator: a faithful local implementation of the NemoVideo agent API (see
//! `docs/protocol.md`, "Endpoints"), in the spirit of stripe-mock / LocalStack.
//!
//! * [`build_app`] gives the axum `Router` for a state; [`start`] binds and serves it in the
//!   background (tests use port 0); [`serve`] is what the binary runs.
//! * Code errors (1001, 1002, 2001, 4001, 4002, 4003) come with HTTP 200 and a JSON
//!   envelope; transport errors (400, 402, 404, 409, 413, 429, 431, 5xx) use the status.
//! * `/__emulator/*` holds test controls: faults, stats, reset, config, health.

#![forbid(unsafe_code)]
// `ApiError` carries a JSON payload; it only travels on the (cold) error path.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod agent;
pub mod auth;
pub mod config;
pub mod credits;
pub mod envelope;
pub mod export;
pub mod faults;
pub mod files;
pub mod probe;
pub mod render;
pub mod retention;
pub mod sessions;
pub mod sniff;
pub mod state;
pub mod state_api;
pub mod upload;
pub mod util;
pub mod www;

use std::{net::SocketAddr, time::Duration};

use axum::{
    extract::{DefaultBodyLimit, Request, State},
    http::{header, HeaderName, Method, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    trace::TraceLayer,
};

pub use config::{Config, EventMode};
pub use state::AppState;

use envelope::ApiError;

/// Refuses requests whose headers add up to more than `--max-header-bytes` (HTTP 431).
async fn header_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let total: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if total > state.config.max_header_bytes {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            431,
            "request headers too large",
        )
        .into_response();
    }
    next.run(req).await
}

/// Reads and discards whatever part of a request body the handler left unread, after it
/// answered (up to `limit` bytes), the way a real gateway's lingering close does. Without
/// it, an early answer (an auth or session error, or an injected fault, on an upload still
/// streaming in) closes the connection under the client, which then sees a reset
/// (`EPIPE`) instead of the answer.
async fn linger(State(limit): State<usize>, req: Request, next: Next) -> Response {
    use futures::StreamExt;
    use std::sync::Arc;
    let (parts, body) = req.into_parts();
    let shared = Arc::new(tokio::sync::Mutex::new(body.into_data_stream()));
    let inner = shared.clone();
    let wrapped = axum::body::Body::from_stream(futures::stream::unfold(inner, |s| async move {
        let item = s.lock().await.next().await?;
        Some((item, s))
    }));
    let response = next.run(Request::from_parts(parts, wrapped)).await;
    tokio::spawn(async move {
        let mut rest = shared.lock().await;
        let mut seen = 0usize;
        while let Some(Ok(chunk)) = rest.next().await {
            seen = seen.saturating_add(chunk.len());
            if seen > limit {
                break;
            }
        }
    });
    response
}

fn cors() -> CorsLayer {
    let h = |s: &'static str| HeaderName::from_static(s);
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::DELETE,
            Method::HEAD,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::RANGE,
            header::IF_RANGE,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::CACHE_CONTROL,
            h("last-event-id"),
            h("x-client-id"),
            h("x-skill-source"),
            h("x-skill-version"),
            h("x-skill-platform"),
            h("x-emulator-events"),
            h("x-requested-with"),
        ])
        .expose_headers([
            header::CONTENT_LENGTH,
            header::CONTENT_RANGE,
            header::CONTENT_TYPE,
            header::CONTENT_DISPOSITION,
            header::ACCEPT_RANGES,
            header::ETAG,
            header::LAST_MODIFIED,
            header::RETRY_AFTER,
        ])
        .max_age(Duration::from_secs(600))
}

/// The whole API for a state.
pub fn build_app(state: AppState) -> Router {
    let cfg = &state.config;
    let upload_limit = (cfg.max_file_size as u128 * cfg.max_files.max(1) as u128 + 1024 * 1024)
        .min(usize::MAX as u128) as usize;
    let api = Router::new()
        .route("/api/auth/anonymous-token", post(auth::anonymous_token))
        .route("/api/auth/claim-token", post(auth::claim_token))
        .route("/api/tasks/me/with-session/{agent}", post(sessions::create))
        .route(
            "/api/upload-video/{agent}/{me}/{sid}",
            post(upload::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/api/credits/balance/simple", get(credits::balance))
        .route(
            "/api/state/{agent}/{me}/{sid}/latest",
            get(state_api::latest),
        )
        .route("/run_sse", post(agent::run_sse))
        .route("/api/render/proxy/lambda", post(export::create))
        .route("/api/render/proxy/lambda/{id}", get(export::status))
        .route("/api/render/proxy/lambda/{id}/cancel", post(export::cancel))
        .route("/api/render/proxy/{id}/download", get(export::download))
        .route("/renders/{file}", get(export::output))
        .route("/files/{id}/{name}", get(files::get_file))
        .route(
            "/__emulator/faults",
            get(admin::list_faults)
                .post(admin::add_faults)
                .delete(admin::clear_faults),
        )
        .route("/__emulator/stats", get(admin::stats))
        .route("/__emulator/reset", post(admin::reset))
        .route(
            "/__emulator/config",
            get(admin::get_config).post(admin::set_config),
        )
        .route("/__emulator/health", get(admin::health));
    let api = www::attach(api, cfg.www.as_deref());
    api.layer(middleware::from_fn_with_state(
        state.clone(),
        faults::middleware,
    ))
    .layer(middleware::from_fn_with_state(state.clone(), header_limit))
    .layer(middleware::from_fn_with_state(upload_limit, linger))
    .layer(DefaultBodyLimit::max(cfg.json_limit))
    .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
        // Method and path only: never headers (tokens) or query strings.
        tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
    }))
    .layer(cors())
    .with_state(state)
}

/// A running emulator.
pub struct Server {
    pub addr: SocketAddr,
    /// `http://host:port` as listened on.
    pub url: String,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    handle: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Stops accepting connections and aborts the server task.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.handle.abort();
        let _ = self.handle.await;
    }

    /// Waits until the server ends (it normally does not).
    pub async fn wait(self) -> std::io::Result<()> {
        match self.handle.await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

/// Connections the kernel may queue before `accept`. Tokio's default (128)
/// overflows when hundreds of clients connect at once (a burst of concurrent
/// turns); the kernel then drops handshakes and each client waits a 1 s SYN
/// retry. Linux caps this at `net.core.somaxconn` (4096 by default).
const LISTEN_BACKLOG: u32 = 1024;

/// Binds the first address `host` resolves to, with [`LISTEN_BACKLOG`].
async fn bind(host: &str, port: u16) -> std::io::Result<TcpListener> {
    let mut last_err = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        // As `TcpListener::bind` does: a restarted emulator can reuse its port
        // while old connections sit in TIME_WAIT.
        socket.set_reuseaddr(true)?;
        match socket.bind(addr) {
            Ok(()) => return socket.listen(LISTEN_BACKLOG),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            "the host resolved to no address",
        )
    }))
}

/// Binds `config.host:config.port` and serves in the background.
pub async fn start(config: Config) -> std::io::Result<Server> {
    let state = AppState::new(config.clone())?;
    let listener = bind(&config.host, config.port).await?;
    let addr = listener.local_addr()?;
    // Without TCP_NODELAY a small SSE write after the headers waits ~40 ms
    // for the client's delayed ACK (Nagle): events must arrive as written.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("could not set TCP_NODELAY: {e}");
        }
    });
    let url = format!("http://{addr}");
    let public = config
        .public_url
        .clone()
        .unwrap_or_else(|| url.clone())
        .trim_end_matches('/')
        .to_string();
    state.set_base_url(public);
    let app = build_app(state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        })
        .await
    });
    Ok(Server {
        addr,
        url,
        state,
        shutdown: Some(tx),
        handle,
    })
}

/// Runs the emulator until Ctrl-C, printing `nemo-emulator listening on <url>` on stdout.
pub async fn serve(config: Config) -> std::io::Result<()> {
    use std::io::Write;
    let server = start(config).await?;
    println!("nemo-emulator listening on {}", server.url);
    let _ = std::io::stdout().flush();
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        r = terminated() => r,
        r = server.wait() => r,
    }
}

/// Resolves on SIGTERM (Unix), so the temporary data directory is removed on a normal stop.
async fn terminated() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut sig = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        sig.recv().await;
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::future::pending().await
    }
}
