//! Building the query strings of links (filters, pagers, the sign-in
//! redirect's `next`), encoded by `form_urlencoded` like the forms that read
//! them back.

/// `name=value` pairs joined with `&`, leaving out pairs with an empty value.
pub fn encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        if !value.is_empty() {
            query.append_pair(name, value);
        }
    }
    query.finish()
}

/// `path?query&`, ready for a pager to append `page=n`; `path?` when no
/// pair has a value.
pub fn prefix<'a>(path: &str, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let query = encode(pairs);
    if query.is_empty() {
        format!("{path}?")
    } else {
        format!("{path}?{query}&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_and_empty_ones_left_out() {
        assert_eq!(
            encode([
                ("q", "pool & \"leak\""),
                ("team", ""),
                ("next", "/incidents/3?x=1")
            ]),
            "q=pool+%26+%22leak%22&next=%2Fincidents%2F3%3Fx%3D1"
        );
        assert_eq!(prefix("/incidents", [("q", "")]), "/incidents?");
        assert_eq!(prefix("/incidents", [("q", "a b")]), "/incidents?q=a+b&");
    }
}
