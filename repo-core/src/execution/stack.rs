//! The middleware stack: boxed services and layers over [`Request`]s.

use std::sync::Arc;

use tower::util::BoxCloneSyncService;
use tower::{Layer, Service};

use crate::error::RepoError;
use crate::request::Request;
use crate::response::Response;

/// Any service in a repository's stack, boxed: what every layer wraps and returns.
pub type RepoService = BoxCloneSyncService<Request, Response, RepoError>;

/// A tower layer over [`RepoService`] with its type erased, so that a repository (or one
/// call) can hold a list of different layers.
#[derive(Clone)]
pub struct BoxedLayer(Arc<dyn Fn(RepoService) -> RepoService + Send + Sync>);

impl BoxedLayer {
    /// Boxes `layer`.
    pub fn new<L>(layer: L) -> Self
    where
        L: Layer<RepoService> + Send + Sync + 'static,
        L::Service: Service<Request, Response = Response, Error = RepoError>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        Self(Arc::new(move |inner| RepoService::new(layer.layer(inner))))
    }

    /// Wraps `inner` in this layer.
    pub fn wrap(&self, inner: RepoService) -> RepoService {
        (self.0)(inner)
    }
}

impl std::fmt::Debug for BoxedLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoxedLayer")
    }
}

/// Wraps `inner` in `layers`, the first layer outermost (as `tower::ServiceBuilder` does).
pub fn wrap_all(inner: RepoService, layers: &[BoxedLayer]) -> RepoService {
    layers
        .iter()
        .rev()
        .fold(inner, |svc, layer| layer.wrap(svc))
}
