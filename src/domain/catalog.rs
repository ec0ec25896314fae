//! Reading a Backstage software catalog (`catalog-info.yaml`: one YAML
//! document per entity) into the services Debrief knows. Components,
//! systems and resources become services; every other entity, and every
//! document that cannot be read, is reported rather than dropped.

use serde::Deserialize;

/// A service as the catalog describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogService {
    pub name: String,
    pub description: String,
    /// The owner as the catalog names it, reduced to its name
    /// (`group:default/payments` → `payments`).
    pub owner: Option<String>,
}

/// What a catalog file held.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog {
    pub services: Vec<CatalogService>,
    /// One line per document that was not taken, saying why.
    pub skipped: Vec<String>,
}

#[derive(Deserialize)]
struct Entity {
    kind: Option<String>,
    metadata: Option<Metadata>,
    spec: Option<Spec>,
}

#[derive(Deserialize)]
struct Metadata {
    name: Option<String>,
    title: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct Spec {
    owner: Option<serde_norway::Value>,
}

/// The entity kinds taken as services.
const SERVICE_KINDS: &[&str] = &["component", "system", "resource"];

/// Longest service name kept (as incidents name services).
pub const NAME_MAX: usize = 100;

/// Reads every document of a catalog file.
pub fn parse(text: &str) -> Catalog {
    let mut catalog = Catalog::default();
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let number = index + 1;
        let entity = match Entity::deserialize(document) {
            Ok(entity) => entity,
            Err(error) => {
                catalog
                    .skipped
                    .push(format!("Document {number}: not an entity ({error})."));
                continue;
            }
        };
        let kind = entity.kind.unwrap_or_default();
        let name = entity
            .metadata
            .as_ref()
            .and_then(|m| m.name.clone())
            .map(|n| n.trim().to_owned())
            .unwrap_or_default();
        if !SERVICE_KINDS.contains(&kind.to_lowercase().as_str()) {
            let what = if kind.is_empty() { "no kind" } else { &kind };
            let named = if name.is_empty() {
                String::new()
            } else {
                format!(" “{name}”")
            };
            catalog.skipped.push(format!(
                "Document {number}{named}: {what} is not a service (only Component, System and Resource are)."
            ));
            continue;
        }
        if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control)
        {
            catalog.skipped.push(format!(
                "Document {number}: a {kind} without a usable metadata.name."
            ));
            continue;
        }
        let metadata = entity.metadata.expect("a name came from it");
        let description = metadata
            .description
            .or(metadata.title)
            .unwrap_or_default()
            .trim()
            .chars()
            .take(2000)
            .collect();
        let owner = entity
            .spec
            .and_then(|spec| spec.owner)
            .and_then(|owner| match owner {
                serde_norway::Value::String(text) => Some(text),
                _ => None,
            })
            .map(|owner| owner_name(&owner))
            .filter(|owner| !owner.is_empty());
        catalog.services.push(CatalogService {
            name,
            description,
            owner,
        });
    }
    catalog
}

/// `group:default/payments` → `payments`; `team-payments` stays.
fn owner_name(reference: &str) -> String {
    let without_kind = reference
        .split_once(':')
        .map_or(reference, |(_, rest)| rest);
    let name = without_kind
        .rsplit_once('/')
        .map_or(without_kind, |(_, name)| name);
    name.trim().to_owned()
}

/// Whether a catalog owner names a team: the same words in any case, with
/// hyphens, underscores and a leading `team-` ignored.
pub fn owner_matches(owner: &str, team_name: &str) -> bool {
    fn normal(text: &str) -> String {
        let lower = text.to_lowercase().replace(['-', '_'], " ");
        let lower = lower.trim();
        let lower = lower.strip_prefix("team ").unwrap_or(lower);
        lower.split_whitespace().collect::<Vec<_>>().join(" ")
    }
    normal(owner) == normal(team_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r"
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout-api
  description: Takes payments at checkout.
  annotations:
    github.com/project-slug: example/checkout
spec:
  type: service
  lifecycle: production
  owner: group:default/payments
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: storefront
  title: The storefront
spec:
  owner: team-web
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: payments
spec:
  type: team
---
kind: Component
metadata:
  title: no name here
---
just a string
";

    #[test]
    fn components_and_systems_become_services_and_the_rest_is_reported() {
        let catalog = parse(FILE);
        assert_eq!(
            catalog.services,
            vec![
                CatalogService {
                    name: "checkout-api".into(),
                    description: "Takes payments at checkout.".into(),
                    owner: Some("payments".into()),
                },
                CatalogService {
                    name: "storefront".into(),
                    description: "The storefront".into(),
                    owner: Some("team-web".into()),
                },
            ]
        );
        assert_eq!(catalog.skipped.len(), 3, "{:?}", catalog.skipped);
        assert!(catalog.skipped[0].contains("Group is not a service"));
        assert!(catalog.skipped[1].contains("without a usable metadata.name"));
        assert!(catalog.skipped[2].starts_with("Document 5"));
    }

    #[test]
    fn owners_match_teams_by_their_words() {
        assert!(owner_matches("payments", "Payments"));
        assert!(owner_matches("team-web", "Web"));
        assert!(owner_matches("site_reliability", "Site Reliability"));
        assert!(!owner_matches("payments", "Payments Platform"));
    }
}
