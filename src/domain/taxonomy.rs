//! The categories of contributing factors, kept as data: admins add,
//! rename, merge and retire them. A category is known by its slug, which
//! never changes, so factors and stored revisions name the slug and always
//! read under the category's current name; a merged slug reads as the
//! category it went into.

use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

/// The slug a factor gets when nothing says otherwise (and the fallback of
/// an import that cannot tell).
pub const FALLBACK: &str = "technical";

/// Most categories one factor may carry.
pub const MAX_PER_FACTOR: usize = 6;

/// One category as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Category {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub retired: bool,
    /// The slug of the category this one was merged into.
    pub merged_into: Option<String>,
}

impl Category {
    /// Offered for new factors: neither retired nor merged away.
    pub fn is_live(&self) -> bool {
        !self.retired && self.merged_into.is_none()
    }
}

/// Every category there is, live or not, in the admins' order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taxonomy(pub Vec<Category>);

impl Taxonomy {
    /// The category a slug stands for now: a merged one leads to where it
    /// went (a chain of merges is followed to its end).
    pub fn resolve(&self, slug: &str) -> Option<&Category> {
        let mut current = self.0.iter().find(|c| c.slug == slug)?;
        for _ in 0..self.0.len() {
            match &current.merged_into {
                Some(next) => match self.0.iter().find(|c| &c.slug == next) {
                    Some(found) => current = found,
                    None => break,
                },
                None => break,
            }
        }
        Some(current)
    }

    /// The name a slug reads as; an unknown slug reads as itself.
    pub fn label(&self, slug: &str) -> String {
        self.resolve(slug)
            .map_or_else(|| slug.to_owned(), |c| c.name.clone())
    }

    /// The names of a factor's categories, merged ones resolved and each
    /// named once.
    pub fn labels(&self, slugs: &[String]) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for name in slugs.iter().map(|slug| self.label(slug)) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The categories offered for a new factor.
    pub fn live(&self) -> impl Iterator<Item = &Category> {
        self.0.iter().filter(|c| c.is_live())
    }

    /// Reads what someone typed or picked (a slug or a name, any case) as
    /// the slug it means now. A retired category is accepted only where it
    /// is already on the factor (`kept`), so an old factor saves unchanged.
    pub fn parse(&self, text: &str, kept: &[String]) -> Option<String> {
        let text = text.trim();
        let found = self
            .0
            .iter()
            .find(|c| c.slug == text)
            .or_else(|| self.0.iter().find(|c| c.name.eq_ignore_ascii_case(text)))?;
        let now = self.resolve(&found.slug)?;
        (!now.retired || kept.contains(&now.slug)).then(|| now.slug.clone())
    }

    /// A factor's slugs as they should be stored: merged ones replaced by
    /// where they went, each once, the main one first.
    pub fn canonical(&self, slugs: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for slug in slugs {
            let now = self
                .resolve(slug)
                .map_or_else(|| slug.clone(), |c| c.slug.clone());
            if !out.contains(&now) {
                out.push(now);
            }
        }
        out
    }
}

/// A slug from a name: lower case, words joined by hyphens, at most `max`
/// characters; `None` when the name has no letter or digit.
pub fn slug_of(name: &str, max: usize) -> Option<String> {
    let mut slug = String::new();
    for ch in name.chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            slug.push(ch);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= max {
            break;
        }
    }
    let slug = slug.trim_end_matches('-').to_owned();
    (!slug.is_empty()).then_some(slug)
}

/// Reads a factor's categories from a stored document: a list of slugs, or
/// the single `category` that documents written before categories became
/// data carry.
pub fn one_or_many<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Either::deserialize(de)? {
        Either::One(slug) => vec![slug],
        Either::Many(slugs) => slugs,
    })
}

#[cfg(test)]
pub(crate) fn sample() -> Taxonomy {
    let category = |slug: &str, name: &str, retired: bool, merged_into: Option<&str>| Category {
        id: Uuid::now_v7(),
        slug: slug.to_owned(),
        name: name.to_owned(),
        description: String::new(),
        retired,
        merged_into: merged_into.map(str::to_owned),
    };
    Taxonomy(vec![
        category("technical", "Technical", false, None),
        category("process", "Process", false, None),
        category("detection", "Detection", false, None),
        category("monitoring", "Monitoring", false, Some("detection")),
        category("organizational", "Organizational", true, None),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merged_slug_reads_as_where_it_went() {
        let taxonomy = sample();
        assert_eq!(taxonomy.label("monitoring"), "Detection");
        assert_eq!(taxonomy.label("gone"), "gone");
        assert_eq!(
            taxonomy.labels(&["detection".into(), "monitoring".into()]),
            vec!["Detection"]
        );
        assert_eq!(
            taxonomy.canonical(&["monitoring".into(), "process".into(), "detection".into()]),
            vec!["detection", "process"]
        );
    }

    #[test]
    fn parsing_takes_slugs_or_names_and_refuses_a_retired_category_on_a_new_factor() {
        let taxonomy = sample();
        assert_eq!(taxonomy.parse("Process", &[]).as_deref(), Some("process"));
        assert_eq!(
            taxonomy.parse("monitoring", &[]).as_deref(),
            Some("detection")
        );
        assert_eq!(taxonomy.parse("organizational", &[]), None);
        assert_eq!(
            taxonomy
                .parse("organizational", &["organizational".into()])
                .as_deref(),
            Some("organizational")
        );
        assert_eq!(taxonomy.parse("", &[]), None);
        assert_eq!(taxonomy.live().count(), 3);
    }

    #[test]
    fn slugs_are_made_from_names() {
        assert_eq!(
            slug_of("Config pushed to every region at once", 80).as_deref(),
            Some("config-pushed-to-every-region-at-once")
        );
        assert_eq!(
            slug_of("  TLS / certificate expiry! ", 80).as_deref(),
            Some("tls-certificate-expiry")
        );
        assert_eq!(slug_of("¿?", 40), None);
    }

    #[test]
    fn old_documents_with_one_category_still_read() {
        #[derive(Deserialize)]
        struct Row {
            #[serde(alias = "category", deserialize_with = "one_or_many")]
            categories: Vec<String>,
        }
        let old: Row = serde_json::from_str(r#"{"category": "process"}"#).expect("old");
        let new: Row =
            serde_json::from_str(r#"{"categories": ["process", "detection"]}"#).expect("new");
        assert_eq!(old.categories, vec!["process"]);
        assert_eq!(new.categories.len(), 2);
    }
}
