//! The two LiteFS HTTP endpoints the tracker calls: `GET /info` and `GET /events`.

use std::time::Duration;

use reqwest::{StatusCode, Url};

use super::info::{Info, parse_info};

/// TCP keep-alive on the API connection, so a dead peer under a silent `/events` stream is
/// eventually noticed (LiteFS sends nothing there while nothing happens).
const TCP_KEEPALIVE: Duration = Duration::from_secs(30);

/// Why a call to LiteFS's API failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// `api_url` is not an `http://` or `https://` URL.
    #[error("invalid LiteFS api_url {url:?}: {reason}")]
    BadUrl {
        /// The configured value.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client for LiteFS's API: {0}")]
    Client(#[source] reqwest::Error),
    /// The request failed (connection refused, reset, ...).
    #[error("GET {url} failed: {source}")]
    Request {
        /// The endpoint.
        url: Url,
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// No answer within the request timeout.
    #[error("GET {url} got no answer within {after:?}")]
    Timeout {
        /// The endpoint.
        url: Url,
        /// The timeout.
        after: Duration,
    },
    /// LiteFS answered with an error status.
    #[error("GET {url} answered {status}")]
    Status {
        /// The endpoint.
        url: Url,
        /// The status.
        status: StatusCode,
    },
    /// `/info` did not return LiteFS's JSON.
    #[error("GET {url} returned a body that is not LiteFS's /info JSON: {source}")]
    Json {
        /// The endpoint.
        url: Url,
        /// What serde found wrong.
        #[source]
        source: serde_json::Error,
    },
}

/// A client for one LiteFS node's HTTP API.
#[derive(Debug, Clone)]
pub(crate) struct LiteFsApi {
    /// Shared connection pool; proxies are bypassed because the API is node-local.
    client: reqwest::Client,
    /// `<api_url>/info`.
    info_url: Url,
    /// `<api_url>/events`.
    events_url: Url,
    /// Bound on `/info` and on getting `/events` response headers.
    timeout: Duration,
}

impl LiteFsApi {
    /// A client for the API at `base` (e.g. `http://127.0.0.1:20202`).
    pub(crate) fn new(base: &str, timeout: Duration) -> Result<Self, ApiError> {
        let bad = |reason: String| ApiError::BadUrl {
            url: base.to_owned(),
            reason,
        };
        let root = Url::parse(base).map_err(|err| bad(err.to_string()))?;
        if !matches!(root.scheme(), "http" | "https") {
            return Err(bad(format!(
                "scheme {:?} is not http or https",
                root.scheme()
            )));
        }
        let endpoint = |name: &str| {
            let joined = format!("{}/{name}", root.as_str().trim_end_matches('/'));
            Url::parse(&joined).map_err(|err| bad(err.to_string()))
        };
        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(timeout)
            .tcp_keepalive(TCP_KEEPALIVE)
            .build()
            .map_err(ApiError::Client)?;
        Ok(Self {
            client,
            info_url: endpoint("info")?,
            events_url: endpoint("events")?,
            timeout,
        })
    }

    /// `GET /info`.
    pub(crate) async fn info(&self) -> Result<Info, ApiError> {
        let url = &self.info_url;
        let response = self.get(url).await?;
        let body = self.bounded(url, response.bytes()).await?;
        parse_info(&body).map_err(|source| ApiError::Json {
            url: url.clone(),
            source,
        })
    }

    /// `GET /events`: the response, whose body stays open until LiteFS ends it.
    pub(crate) async fn events(&self) -> Result<reqwest::Response, ApiError> {
        self.get(&self.events_url).await
    }

    /// Sends a GET and waits (bounded) for a success status.
    async fn get(&self, url: &Url) -> Result<reqwest::Response, ApiError> {
        let response = self
            .bounded(url, self.client.get(url.clone()).send())
            .await?;
        let status = response.status();
        if !status.is_success() {
            return Err(ApiError::Status {
                url: url.clone(),
                status,
            });
        }
        Ok(response)
    }

    /// Awaits one step of a request to `url` for at most the configured timeout.
    async fn bounded<T>(
        &self,
        url: &Url,
        step: impl Future<Output = Result<T, reqwest::Error>>,
    ) -> Result<T, ApiError> {
        tokio::time::timeout(self.timeout, step)
            .await
            .map_err(|_| ApiError::Timeout {
                url: url.clone(),
                after: self.timeout,
            })?
            .map_err(|source| ApiError::Request {
                url: url.clone(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_hang_off_the_base_url() {
        let api = LiteFsApi::new("http://127.0.0.1:20202/", Duration::from_secs(1)).expect("url");
        assert_eq!(api.info_url.as_str(), "http://127.0.0.1:20202/info");
        assert_eq!(api.events_url.as_str(), "http://127.0.0.1:20202/events");
    }

    #[test]
    fn urls_that_are_not_http_are_refused() {
        for bad in ["127.0.0.1:20202", "localhost:20202", "", "ftp://x/"] {
            assert!(
                matches!(
                    LiteFsApi::new(bad, Duration::from_secs(1)),
                    Err(ApiError::BadUrl { .. })
                ),
                "{bad:?}"
            );
        }
    }
}
