//! The pages' scripts. Each one only improves a form that already works without it.

/// Formats a `created_at` from the server (`2026-11-30T14:05:01.123`, UTC) as the server's
/// pages do: `30 Nov 2026, 14:05 UTC`.
macro_rules! human_time {
    () => {
        r#"
const MONTHS = ['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec'];
function human(iso) {
  const d = new Date(iso.replace(/\.\d+$/, '') + 'Z');
  if (isNaN(d)) return iso;
  const pad = (n) => String(n).padStart(2, '0');
  return d.getUTCDate() + ' ' + MONTHS[d.getUTCMonth()] + ' ' + d.getUTCFullYear() + ', '
    + pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ' UTC';
}
"#
    };
}

/// Shows one message per field beside it, clears it as soon as the field changes.
macro_rules! field_errors {
    () => {
        r#"
function showErrors(form, prefix, reply) {
  const errors = reply.errors || {};
  let placed = false;
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  for (const [field, message] of Object.entries(errors)) {
    const el = document.getElementById(prefix + '-' + field + '-error');
    if (el) { el.textContent = message; placed = true; }
  }
  return placed ? '' : (reply.error || 'Something went wrong.');
}
function clearOnInput(form, prefix, status) {
  for (const input of form.querySelectorAll('input, textarea')) {
    input.addEventListener('input', () => {
      const el = document.getElementById(prefix + '-' + input.name + '-error');
      if (el) el.textContent = '';
      status.textContent = '';
    });
  }
}
"#
    };
}

/// The new-post form through the JSON API (opens the new draft, or shows the errors), and
/// newly published posts added to the top of the first page as they arrive (`/ws`).
pub(super) const INDEX_SCRIPT: &str = concat!(
    human_time!(),
    field_errors!(),
    r#"
const posts = document.getElementById('posts');
function live() {
  if (document.getElementById('listing').dataset.page !== '1') return;
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const socket = new WebSocket(scheme + location.host + '/ws');
  socket.onclose = () => setTimeout(live, 1000);
  socket.onmessage = (msg) => {
    const post = JSON.parse(msg.data);
    if (document.getElementById('post-' + post.id)) return;
    const empty = document.getElementById('no-posts');
    if (empty) empty.remove();
    const item = document.createElement('li');
    item.id = 'post-' + post.id;
    const link = document.createElement('a');
    link.href = '/posts/' + post.id;
    link.textContent = post.title;
    const when = document.createElement('small');
    when.textContent = post.published_at ? human(post.published_at) : '';
    item.append(link, ' ', when);
    posts.prepend(item);
  };
}
live();"#,
    r#"
const form = document.getElementById('new-post');
const status = document.getElementById('status');
clearOnInput(form, 'post', status);
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
    status.textContent = showErrors(form, 'post', json);
  } catch (e) {
    status.textContent = 'Could not reach the server.';
  }
});
"#
);

/// Live comments: the post's WebSocket, resumed after the last comment shown, reconnecting
/// when it drops; comments go over it (or as a plain form post while it is down).
pub(super) const POST_SCRIPT: &str = concat!(
    human_time!(),
    field_errors!(),
    r#"
const main = document.getElementById('post');
const postId = main.dataset.postId;
let lastId = Number(main.dataset.lastComment || 0);
const list = document.getElementById('comments');
const status = document.getElementById('status');
const form = document.getElementById('new-comment');
const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
let socket;
let pending = null;
clearOnInput(form, 'comment', status);
function connect() {
  socket = new WebSocket(scheme + location.host + '/posts/' + postId + '/ws?after=' + lastId);
  socket.onopen = () => { status.textContent = 'Live.'; };
  socket.onclose = () => { status.textContent = 'Reconnecting…'; setTimeout(connect, 1000); };
  socket.onmessage = (msg) => {
    const data = JSON.parse(msg.data);
    if (data.error) {
      pending = null;
      status.textContent = showErrors(form, 'comment', data);
      return;
    }
    if (data.id <= lastId) return;
    lastId = data.id;
    const item = document.createElement('li');
    item.id = 'comment-' + data.id;
    const who = document.createElement('strong');
    who.textContent = data.author;
    const when = document.createElement('small');
    when.textContent = human(data.created_at);
    const body = document.createElement('div');
    body.className = 'body';
    body.textContent = data.body;
    item.append(who, ' ', when, body);
    list.append(item);
    if (pending && pending.author === data.author && pending.body === data.body) {
      pending = null;
      form.elements['body'].value = '';
    }
    status.textContent = 'Live.';
  };
}
connect();
form.addEventListener('submit', (event) => {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  event.preventDefault();
  const data = new FormData(form);
  pending = { author: data.get('author'), body: data.get('body') };
  status.textContent = 'Sending…';
  socket.send(JSON.stringify(pending));
});
"#
);
