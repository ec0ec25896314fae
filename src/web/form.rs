//! Form problems, collected per field so each shows next to its input, and
//! parsing of ids that arrive in paths and forms.

use uuid::Uuid;

use super::AppError;

/// The `version` a form was loaded at. Anything malformed reads as 0, which
/// matches no saved version, so the save is refused as stale rather than
/// applied blindly.
pub fn parse_version(raw: &str) -> i32 {
    raw.trim().parse().unwrap_or(0)
}

/// Parses an id from a path; anything malformed is simply not found.
pub fn parse_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}

/// The problems found in a submitted form, keyed by field name.
#[derive(Debug, Default)]
pub struct FormErrors(Vec<(String, String)>);

impl FormErrors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((field.into(), message.into()));
    }

    /// Records the error of a parse result, if any, and passes on the value.
    pub fn check<T, E: Into<String>>(
        &mut self,
        field: impl Into<String>,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    /// The first problem with a field, for the template.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, message)| message.as_str())
    }

    /// Every problem, in the order found: (field, message).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(field, message)| (field.as_str(), message.as_str()))
    }

    /// Takes in the problems of another form part.
    pub fn extend(&mut self, other: FormErrors) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn count(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_found_by_field() {
        let mut errors = FormErrors::default();
        assert!(errors.is_empty());
        let value: Option<u8> = errors.check("email", Err("Enter an email address."));
        assert_eq!(value, None);
        assert_eq!(errors.get("email"), Some("Enter an email address."));
        assert_eq!(errors.get("name"), None);
        assert_eq!(errors.count(), 1);
    }
}
