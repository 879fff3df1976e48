//! HTML building blocks: escaping and the page shell.

/// Escapes `text` for use in HTML text and in quoted attribute values: `&`, `<`, `>`,
/// `"` and `'` become character references. Every user-supplied string goes through it.
///
/// ```
/// assert_eq!(
///     blog_example::web::escape("<b>\"Tom\" & 'Jerry'</b>"),
///     "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
/// );
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "*{box-sizing:border-box}body{font-family:system-ui,sans-serif;\
max-width:46rem;margin:0 auto;padding:1rem;line-height:1.5;overflow-wrap:anywhere}\
header{display:flex;gap:1rem;flex-wrap:wrap;align-items:baseline}\
footer{margin-top:2rem;border-top:1px solid #ddd;padding-top:.5rem;color:#666;font-size:.9rem}\
label{display:block;margin:.75rem 0 0}input,textarea{display:block;width:100%;max-width:100%;\
font:inherit;padding:.3rem}button{font:inherit;margin-top:.75rem;padding:.3rem .9rem}\
.body{white-space:pre-wrap}.tag{background:#eee;border-radius:.3rem;padding:0 .4rem;\
margin-right:.3rem}.error,.field-error{color:#b00;margin:.2rem 0}.field-error:empty{display:none}\
.draft{background:#fff3c4;border-radius:.3rem;padding:0 .4rem}small{color:#666}\
ul{padding-left:1.2rem}nav.pages{display:flex;justify-content:space-between;margin-top:1rem}";

/// A complete page. `title` is escaped here; `main` and `footer` must already be safe HTML
/// and `script` is trusted code from this crate.
pub(crate) fn page(title: &str, main: &str, footer: &str, script: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><header><a href=\"/\">Blog</a><a href=\"/drafts\">Drafts</a></header>\
         {main}{footer}<script>{script}</script></body></html>\n",
        title = escape(title),
    )
}

/// Tag names as little badges.
pub(crate) fn tag_list(tags: &[String]) -> String {
    tags.iter()
        .map(|t| format!("<span class=\"tag\">{}</span>", escape(t)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
        assert_eq!(escape("plain text é"), "plain text é");
    }
}
