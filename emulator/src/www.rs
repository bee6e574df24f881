//! `--www DIR`: a static directory served at `/` on the API's origin (demo page, built
//! package). `ServeDir` resolves paths inside the directory only (no `..`, no absolute
//! paths); anything else falls through to a JSON 404.

use std::path::Path;

use axum::{
    http::{Method, Uri},
    response::{IntoResponse, Response},
    Router,
};
use tower_http::services::ServeDir;

use crate::{envelope::ApiError, state::AppState};

async fn not_found(method: Method, uri: Uri) -> Response {
    ApiError::not_found(format!("no route for {method} {}", uri.path())).into_response()
}

/// Adds the static fallback (or a JSON 404) to the router.
pub fn attach(router: Router<AppState>, dir: Option<&Path>) -> Router<AppState> {
    match dir {
        Some(d) => {
            let serve = ServeDir::new(d)
                .append_index_html_on_directories(true)
                .fallback(tower::service_fn(
                    |req: axum::extract::Request| async move {
                        Ok::<_, std::convert::Infallible>(
                            not_found(req.method().clone(), req.uri().clone()).await,
                        )
                    },
                ));
            router.fallback_service(serve)
        }
        None => router.fallback(not_found),
    }
}
