//! Which uploads are accepted as attachments: PNG, JPEG, GIF and WebP
//! images, recognised by their first bytes, never by the file name.

/// An accepted image type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageType {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl ImageType {
    pub fn content_type(self) -> &'static str {
        match self {
            ImageType::Png => "image/png",
            ImageType::Jpeg => "image/jpeg",
            ImageType::Gif => "image/gif",
            ImageType::Webp => "image/webp",
        }
    }

    pub fn from_content_type(text: &str) -> Option<ImageType> {
        [
            ImageType::Png,
            ImageType::Jpeg,
            ImageType::Gif,
            ImageType::Webp,
        ]
        .into_iter()
        .find(|kind| kind.content_type() == text)
    }

    fn extension(self) -> &'static str {
        match self {
            ImageType::Png => "png",
            ImageType::Jpeg => "jpg",
            ImageType::Gif => "gif",
            ImageType::Webp => "webp",
        }
    }
}

/// Default largest upload, in bytes (10 MB).
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// The image type `bytes` hold, or why they are refused.
pub fn sniff(bytes: &[u8]) -> Result<ImageType, String> {
    if bytes.is_empty() {
        return Err("The file is empty.".to_owned());
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(ImageType::Png);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(ImageType::Jpeg);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Ok(ImageType::Gif);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(ImageType::Webp);
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    if head.contains("<svg") {
        return Err(
            "SVG images are not accepted (they can carry scripts). Export it as PNG.".to_owned(),
        );
    }
    if head.contains("<html")
        || head.contains("<!doctype")
        || head.contains("<script")
        || head.contains("<body")
    {
        return Err("This file is HTML, not an image, whatever its name says. Attach PNG, JPEG, GIF or WebP.".to_owned());
    }
    Err("This file is not a PNG, JPEG, GIF or WebP image. Only those can be attached.".to_owned())
}

/// A file name safe to store and to send in `Content-Disposition`: the
/// last path part, printable ASCII without quotes, with the extension of
/// the real type.
pub fn safe_file_name(name: &str, kind: ImageType) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let stem = base.rsplit_once('.').map_or(base, |(stem, _)| stem);
    let cleaned: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(100)
        .collect();
    let mut collapsed = String::with_capacity(cleaned.len());
    for c in cleaned.chars() {
        if !(c == '-' && collapsed.ends_with('-')) {
            collapsed.push(c);
        }
    }
    let cleaned = collapsed.trim_matches(['-', '.']);
    let stem = if cleaned.is_empty() { "image" } else { cleaned };
    format!("{stem}.{}", kind.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_their_first_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Ok(ImageType::Png));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok(ImageType::Jpeg));
        assert_eq!(sniff(b"GIF89a...."), Ok(ImageType::Gif));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Ok(ImageType::Webp));
    }

    #[test]
    fn svg_html_and_other_files_are_refused_with_a_reason() {
        assert!(
            sniff(b"<?xml version=\"1.0\"?><svg xmlns=\"x\"></svg>")
                .unwrap_err()
                .contains("SVG")
        );
        assert!(
            sniff(b"<!DOCTYPE html><html><script>alert(1)</script>")
                .unwrap_err()
                .contains("HTML")
        );
        assert!(sniff(b"%PDF-1.7").unwrap_err().contains("not a PNG"));
        assert!(sniff(b"").is_err());
    }

    #[test]
    fn stored_names_are_plain_and_carry_the_real_extension() {
        assert_eq!(
            safe_file_name("../../evil\"name.png", ImageType::Jpeg),
            "evil-name.jpg"
        );
        assert_eq!(
            safe_file_name("Screen Shot 2026.png", ImageType::Png),
            "Screen-Shot-2026.png"
        );
        assert_eq!(safe_file_name("", ImageType::Gif), "image.gif");
    }
}
