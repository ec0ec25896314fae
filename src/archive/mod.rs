//! Moving postmortems in and out of Debrief: Markdown files from an
//! existing archive, and the whole archive as one JSON document.

pub mod json;
pub mod markdown;
