//! Markdown as authors write it (CommonMark with tables), rendered to HTML
//! and then sanitized: no script, styles, event handlers, frames or
//! `javascript:` / `data:` links survive.

use pulldown_cmark::{Options, Parser, html};

/// Renders Markdown to HTML that is safe to put into a page as it is.
pub fn render(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders_with_tables() {
        let html = render("**bold** and `code`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("<code>code</code>"));
        assert!(html.contains("<table>") && html.contains("<td>1</td>"));
    }

    #[test]
    fn dangerous_markup_is_inert() {
        let html = render(concat!(
            "<script>alert(1)</script>\n\n",
            "<img src=x onerror=alert(2)>\n\n",
            "[click](javascript:alert(3)) [data](data:text/html,hi)\n\n",
            "<iframe src=\"https://evil.example\"></iframe><style>body{}</style>\n\n",
            "<a href=\"https://example.com\" onclick=\"alert(4)\">ok</a>"
        ));
        for bad in [
            "<script",
            "onerror",
            "javascript:",
            "data:text",
            "<iframe",
            "<style",
            "onclick",
        ] {
            assert!(!html.contains(bad), "{bad} survived in {html}");
        }
        assert!(html.contains(r#"href="https://example.com""#));
    }
}
