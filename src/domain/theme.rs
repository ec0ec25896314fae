//! Themes: named patterns across postmortems. This module decides which
//! themes a factor might belong to, and says why, so that a person can
//! confirm or dismiss each suggestion knowing what it rests on.

use std::collections::HashSet;

use super::search::stemmed_words;

/// What a theme is made of, for comparing a factor with it: the stems of
/// its name and of its linked factors, the services of its incidents and
/// the categories of its factors.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    pub slug: String,
    pub name: String,
    pub stems: HashSet<String>,
    pub services: Vec<String>,
    pub categories: Vec<String>,
}

impl Profile {
    /// A profile from the theme's name and its factors' text.
    pub fn new(
        slug: String,
        name: String,
        texts: &[String],
        services: Vec<String>,
        categories: Vec<String>,
    ) -> Profile {
        let stems = std::iter::once(name.as_str())
            .chain(texts.iter().map(String::as_str))
            .flat_map(stemmed_words)
            .map(|(stem, _)| stem)
            .collect();
        Profile {
            slug,
            name,
            stems,
            services,
            categories,
        }
    }
}

/// How much a suggestion (or a similar incident) has behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    Weak,
    Moderate,
    Strong,
}

impl Strength {
    pub fn label(self) -> &'static str {
        match self {
            Strength::Weak => "weak",
            Strength::Moderate => "moderate",
            Strength::Strong => "strong",
        }
    }

    /// From what is shared: distinctive words weigh most, then services,
    /// then tags or categories.
    pub fn of(words: usize, services: usize, others: usize) -> Strength {
        let score = words * 2 + services * 2 + others;
        if score >= 6 {
            Strength::Strong
        } else if score >= 4 {
            Strength::Moderate
        } else {
            Strength::Weak
        }
    }
}

/// A theme a factor might belong to, and what the two share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub factor_id: uuid::Uuid,
    pub slug: String,
    pub name: String,
    pub words: Vec<String>,
    pub services: Vec<String>,
    pub categories: Vec<String>,
    pub strength: Strength,
}

/// The factor being compared.
pub struct Factor<'a> {
    pub id: uuid::Uuid,
    /// The words of its description, as [`stemmed_words`] gives them.
    pub words: &'a [(String, String)],
    pub categories: &'a [String],
    /// The services of its incident.
    pub services: &'a [String],
}

/// The themes `factor` might belong to, strongest first (at most three).
/// A theme is suggested only on a shared word: two of them, or one with a
/// shared service or category. Services and categories alone say too
/// little (every database incident shares "database").
pub fn suggest<'a>(
    factor: &Factor<'_>,
    themes: impl IntoIterator<Item = &'a Profile>,
) -> Vec<Suggestion> {
    let mut out: Vec<Suggestion> = themes
        .into_iter()
        .filter_map(|theme| {
            let shared_words: Vec<String> = factor
                .words
                .iter()
                .filter(|(stem, _)| theme.stems.contains(stem))
                .map(|(_, word)| word.clone())
                .take(6)
                .collect();
            let services: Vec<String> = factor
                .services
                .iter()
                .filter(|s| theme.services.contains(s))
                .cloned()
                .collect();
            let categories: Vec<String> = factor
                .categories
                .iter()
                .filter(|c| theme.categories.contains(c))
                .cloned()
                .collect();
            let enough = shared_words.len() >= 2
                || (shared_words.len() == 1 && (!services.is_empty() || !categories.is_empty()));
            enough.then(|| Suggestion {
                factor_id: factor.id,
                slug: theme.slug.clone(),
                name: theme.name.clone(),
                strength: Strength::of(shared_words.len(), services.len(), categories.len()),
                words: shared_words,
                services,
                categories,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.strength
            .cmp(&a.strength)
            .then(b.words.len().cmp(&a.words.len()))
            .then(a.name.cmp(&b.name))
    });
    out.truncate(3);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &str, texts: &[&str], services: &[&str], categories: &[&str]) -> Profile {
        Profile::new(
            name.to_lowercase().replace(' ', "-"),
            name.to_owned(),
            &texts.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>(),
            services.iter().map(|s| (*s).to_owned()).collect(),
            categories.iter().map(|c| (*c).to_owned()).collect(),
        )
    }

    #[test]
    fn a_factor_is_offered_the_theme_it_shares_words_with_and_told_why() {
        let themes = [
            profile(
                "Certificate expiry",
                &["The TLS certificate expired unnoticed on the edge proxies."],
                &["edge"],
                &["detection"],
            ),
            profile(
                "Config pushed everywhere at once",
                &["A flag change reached every region at the same moment."],
                &["config-service"],
                &["process"],
            ),
        ];
        let categories = vec!["detection".to_owned()];
        let services = vec!["edge".to_owned()];
        let factor = Factor {
            id: uuid::Uuid::nil(),
            words: &stemmed_words("Nobody was warned before the certificates expired."),
            categories: &categories,
            services: &services,
        };
        let found = suggest(&factor, &themes);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "Certificate expiry");
        assert_eq!(found[0].words, vec!["certificates", "expired"]);
        assert_eq!(found[0].services, vec!["edge"]);
        assert_eq!(found[0].categories, vec!["detection"]);
        assert_eq!(found[0].strength, Strength::Strong);
    }

    #[test]
    fn a_shared_service_or_category_without_a_word_suggests_nothing() {
        let themes = [profile(
            "Certificate expiry",
            &["The TLS certificate expired."],
            &["edge"],
            &["technical"],
        )];
        let categories = vec!["technical".to_owned()];
        let services = vec!["edge".to_owned()];
        let factor = Factor {
            id: uuid::Uuid::nil(),
            words: &stemmed_words("The retry loop had no jitter."),
            categories: &categories,
            services: &services,
        };
        assert!(suggest(&factor, &themes).is_empty());
        // One shared word alone is not enough either.
        let lonely = Factor {
            words: &stemmed_words("A certificate was renewed by hand."),
            categories: &[],
            services: &[],
            ..factor
        };
        assert!(suggest(&lonely, &themes).is_empty());
    }

    #[test]
    fn strength_grows_with_what_is_shared() {
        assert_eq!(Strength::of(1, 0, 1), Strength::Weak);
        assert_eq!(Strength::of(2, 0, 0), Strength::Moderate);
        assert_eq!(Strength::of(2, 1, 0), Strength::Strong);
    }
}
