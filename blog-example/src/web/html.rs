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

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;\
padding:0 1rem;line-height:1.5}label{display:block;margin:.5rem 0}input,textarea{width:100%}\
.body{white-space:pre-wrap}.tag{background:#eee;border-radius:.3rem;padding:0 .4rem;\
margin-right:.3rem}.error{color:#b00}small{color:#666}";

/// A complete page. `title` is escaped here; `main` must already be safe HTML and
/// `script` is trusted code from this crate.
pub(crate) fn page(title: &str, main: &str, script: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><header><a href=\"/\">Blog</a></header>{main}<script>{script}</script>\
         </body></html>\n",
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
