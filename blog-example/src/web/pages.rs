//! Server-rendered pages: the post list with a new-post form, and a post with its live
//! comments.

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use super::api::{post_detail, recent_posts};
use super::error::ApiError;
use super::extract::PostId;
use super::html::{escape, page, tag_list};
use crate::entities::comment;

/// Posts the new-post form to the JSON API, then opens the new post.
const INDEX_SCRIPT: &str = r#"
const form = document.getElementById('new-post');
const status = document.getElementById('status');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const tags = data.get('tags').split(',').map(t => t.trim()).filter(t => t.length > 0);
  const payload = { title: data.get('title'), slug: data.get('slug'), body: data.get('body'), tags };
  status.textContent = 'Saving…';
  try {
    const res = await fetch('/api/posts', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload)
    });
    const json = await res.json();
    if (res.status === 201) { window.location = '/posts/' + json.id; return; }
    const fields = json.errors ? Object.entries(json.errors).map(([k, v]) => k + ' ' + v) : [];
    status.textContent = [json.error].concat(fields).join('; ');
  } catch (e) {
    status.textContent = 'Could not reach the server.';
  }
});
"#;

/// Sends comments over the post's WebSocket and shows every comment pushed to it.
const POST_SCRIPT: &str = r#"
const postId = document.getElementById('post').dataset.postId;
const list = document.getElementById('comments');
const status = document.getElementById('status');
const form = document.getElementById('new-comment');
const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
let socket;
function connect() {
  socket = new WebSocket(scheme + location.host + '/posts/' + postId + '/ws');
  socket.onopen = () => { status.textContent = 'Live.'; };
  socket.onclose = () => { status.textContent = 'Disconnected; reconnecting…'; setTimeout(connect, 2000); };
  socket.onmessage = (msg) => {
    const data = JSON.parse(msg.data);
    if (data.error) {
      const fields = data.errors ? Object.entries(data.errors).map(([k, v]) => k + ' ' + v) : [];
      status.textContent = [data.error].concat(fields).join('; ');
      return;
    }
    const item = document.createElement('li');
    const who = document.createElement('strong');
    who.textContent = data.author;
    const when = document.createElement('small');
    when.textContent = ' ' + data.created_at;
    const body = document.createElement('div');
    body.className = 'body';
    body.textContent = data.body;
    item.append(who, when, body);
    list.append(item);
    status.textContent = 'Live.';
  };
}
connect();
form.addEventListener('submit', (event) => {
  event.preventDefault();
  const data = new FormData(form);
  socket.send(JSON.stringify({ author: data.get('author'), body: data.get('body') }));
  form.elements['body'].value = '';
});
"#;

/// `GET /`: non-archived posts, newest first, and a form for a new one.
pub(crate) async fn index(State(state): State<AppState>) -> Response {
    let posts = match recent_posts(&state).await {
        Ok(posts) => posts,
        Err(e) => return error_page(e),
    };
    let items: String = posts
        .iter()
        .map(|p| {
            format!(
                "<li><a href=\"/posts/{id}\">{title}</a> <small>{created}{draft}</small></li>",
                id = p.id,
                title = escape(&p.title),
                created = p.created_at.format("%Y-%m-%d %H:%M"),
                draft = if p.published { "" } else { " · draft" },
            )
        })
        .collect();
    let main = format!(
        "<main><h1>Posts</h1><ul id=\"posts\">{items}</ul>\
         <h2>New post</h2><form id=\"new-post\">\
         <label>Title <input name=\"title\" required maxlength=\"200\"></label>\
         <label>Slug <input name=\"slug\" required pattern=\"[a-z0-9-]{{1,100}}\"></label>\
         <label>Body <textarea name=\"body\" rows=\"8\" required></textarea></label>\
         <label>Tags (comma separated) <input name=\"tags\"></label>\
         <button type=\"submit\">Publish draft</button></form>\
         <p id=\"status\" class=\"error\" role=\"status\"></p></main>"
    );
    Html(page("Blog", &main, INDEX_SCRIPT)).into_response()
}

/// `GET /posts/{id}`: the post, its tags and comments, and a live comment form.
pub(crate) async fn post_page(State(state): State<AppState>, PostId(id): PostId) -> Response {
    let detail = match post_detail(&state, id).await {
        Ok(detail) => detail,
        Err(e) => return error_page(e),
    };
    let comments: String = detail.comments.iter().map(comment_item).collect();
    let main = format!(
        "<main id=\"post\" data-post-id=\"{id}\"><article><h1>{title}</h1>\
         <p>{tags}</p><div class=\"body\">{body}</div></article>\
         <h2>Comments</h2><ul id=\"comments\">{comments}</ul>\
         <form id=\"new-comment\">\
         <label>Name <input name=\"author\" required maxlength=\"80\"></label>\
         <label>Comment <textarea name=\"body\" rows=\"4\" required maxlength=\"10000\"></textarea></label>\
         <button type=\"submit\">Comment</button></form>\
         <p id=\"status\" role=\"status\"></p></main>",
        id = detail.post.id,
        title = escape(&detail.post.title),
        tags = tag_list(&detail.tags),
        body = escape(&detail.post.body),
    );
    Html(page(&detail.post.title, &main, POST_SCRIPT)).into_response()
}

fn comment_item(c: &comment::Model) -> String {
    format!(
        "<li><strong>{author}</strong><small> {created}</small><div class=\"body\">{body}</div></li>",
        author = escape(&c.author),
        created = c.created_at.format("%Y-%m-%d %H:%M"),
        body = escape(&c.body),
    )
}

/// The error as a small page with its status code.
pub(crate) fn error_page(error: ApiError) -> Response {
    let message = escape(&error.message());
    let main = format!("<main><h1>{message}</h1><p><a href=\"/\">All posts</a></p></main>");
    (error.status(), Html(page(&error.message(), &main, ""))).into_response()
}
