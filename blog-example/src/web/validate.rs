//! The rules request bodies must follow, checked before anything touches the database.
//!
//! Every field is optional in the wire types, so that a missing field is reported like
//! any other invalid one: `422` with `{errors: {field: "is required"}}`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::ApiError;
use crate::transactions::NewPost;

/// The longest post body, in bytes (100 KB).
pub(crate) const MAX_POST_BODY_BYTES: usize = 100 * 1024;
/// The most tags one post may carry.
pub(crate) const MAX_TAGS: usize = 10;

/// `POST /api/posts`.
#[derive(Debug, Deserialize)]
pub(crate) struct NewPostRequest {
    title: Option<String>,
    slug: Option<String>,
    body: Option<String>,
    tags: Option<Vec<String>>,
}

impl NewPostRequest {
    /// The request a form sends: tags as one comma-separated field.
    pub(crate) fn from_form(
        title: Option<String>,
        slug: Option<String>,
        body: Option<String>,
        tags: Option<String>,
    ) -> Self {
        let tags = tags.map(|tags| {
            tags.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        });
        Self {
            title,
            slug,
            body,
            tags,
        }
    }
}

/// `POST /api/posts/{id}/comments` and every WebSocket message.
#[derive(Debug, Deserialize)]
pub(crate) struct NewCommentRequest {
    author: Option<String>,
    body: Option<String>,
}

impl NewCommentRequest {
    /// The request a form sends.
    pub(crate) fn from_form(author: Option<String>, body: Option<String>) -> Self {
        Self { author, body }
    }
}

/// `POST /api/posts/archive`.
#[derive(Debug, Deserialize)]
pub(crate) struct ArchiveRequest {
    older_than_days: Option<i64>,
}

/// A comment that passed validation.
#[derive(Debug)]
pub(crate) struct ValidComment {
    pub(crate) author: String,
    pub(crate) body: String,
}

/// Collects one message per field.
#[derive(Default)]
struct Errors(BTreeMap<&'static str, String>);

impl Errors {
    fn check(&mut self, field: &'static str, result: Result<(), String>) {
        if let Err(message) = result {
            self.0.entry(field).or_insert(message);
        }
    }

    fn required<T>(&mut self, field: &'static str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.0.insert(field, "is required".to_owned());
        }
        value
    }

    fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        match (self.0.is_empty(), value()) {
            (true, Some(value)) => Ok(value),
            _ => Err(ApiError::Validation(self.0)),
        }
    }
}

fn chars_between(value: &str, min: usize, max: usize) -> Result<(), String> {
    let n = value.chars().count();
    if value.trim().is_empty() {
        Err("must not be blank".to_owned())
    } else if n < min || n > max {
        Err(format!("must be {min} to {max} characters"))
    } else {
        Ok(())
    }
}

fn slug_like(value: &str, max: usize) -> Result<(), String> {
    let ok = !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "must be 1 to {max} lowercase letters, digits or dashes"
        ))
    }
}

impl NewPostRequest {
    /// The transaction arguments, or a message for every field at fault.
    pub(crate) fn validate(self) -> Result<NewPost, ApiError> {
        let mut errors = Errors::default();
        let title = errors.required("title", self.title);
        let slug = errors.required("slug", self.slug);
        let body = errors.required("body", self.body);
        let mut tags = self.tags.unwrap_or_default();
        if let Some(title) = &title {
            errors.check("title", chars_between(title, 1, 200));
        }
        if let Some(slug) = &slug {
            errors.check("slug", slug_like(slug, 100));
        }
        if let Some(body) = &body {
            if body.trim().is_empty() {
                errors.check("body", Err("must not be blank".to_owned()));
            } else if body.len() > MAX_POST_BODY_BYTES {
                errors.check("body", Err("must be at most 100 KB".to_owned()));
            }
        }
        if tags.len() > MAX_TAGS {
            errors.check("tags", Err(format!("at most {MAX_TAGS} tags")));
        }
        for tag in &tags {
            errors.check(
                "tags",
                slug_like(tag, 40).map_err(|m| format!("each tag {m}")),
            );
        }
        tags.sort();
        tags.dedup();
        errors.finish(|| {
            Some(NewPost {
                title: title?,
                slug: slug?,
                body: body?,
                tags,
            })
        })
    }
}

impl NewCommentRequest {
    /// The comment, or a message for every field at fault.
    pub(crate) fn validate(self) -> Result<ValidComment, ApiError> {
        let mut errors = Errors::default();
        let author = errors.required("author", self.author);
        let body = errors.required("body", self.body);
        if let Some(author) = &author {
            errors.check("author", chars_between(author, 1, 80));
        }
        if let Some(body) = &body {
            errors.check("body", chars_between(body, 1, 10_000));
        }
        errors.finish(|| {
            Some(ValidComment {
                author: author?,
                body: body?,
            })
        })
    }
}

impl ArchiveRequest {
    /// The age in days, which must be between 0 and 36,500.
    pub(crate) fn validate(self) -> Result<i64, ApiError> {
        match self.older_than_days {
            None => Err(ApiError::invalid("older_than_days", "is required")),
            Some(days @ 0..=36_500) => Ok(days),
            Some(_) => Err(ApiError::invalid(
                "older_than_days",
                "must be between 0 and 36500",
            )),
        }
    }
}
