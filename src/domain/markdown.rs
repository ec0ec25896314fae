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

/// The start of a text on one line: spaces and line breaks squashed, cut
/// to `max_chars` with an ellipsis when longer.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > max_chars {
        line.chars()
            .take(max_chars.saturating_sub(1))
            .collect::<String>()
            + "…"
    } else {
        line
    }
}

/// Renders a short piece (a timeline entry, a factor) for a table cell or a
/// list item: a single paragraph comes without its `<p>`, so it flows with
/// what is around it; anything longer (a list, several paragraphs) stays
/// as blocks.
pub fn render_inline(markdown: &str) -> String {
    let html = render(markdown);
    let trimmed = html.trim_end();
    match trimmed
        .strip_prefix("<p>")
        .and_then(|rest| rest.strip_suffix("</p>"))
    {
        Some(inner) if !inner.contains("<p>") => inner.to_owned(),
        _ => html,
    }
}

#[cfg(test)]
mod tests {
    use super::{render, render_inline};

    #[test]
    fn a_single_paragraph_renders_inline() {
        assert_eq!(
            render_inline("rolled back **v2.3** <script>x</script>"),
            "rolled back <strong>v2.3</strong> "
        );
        assert!(render_inline("one\n\ntwo").starts_with("<p>one</p>"));
        assert!(render_inline("- a\n- b").contains("<li>a</li>"));
    }

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
