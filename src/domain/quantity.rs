//! The numbers an author types into the impact figures: counts, money and
//! percentages. One parser each, used by the save and by the live checklist,
//! so both read `$12,500` the same way.

/// A whole number such as `18000`, `18,000` or `18 000`; empty means not known.
pub fn parse_count(raw: &str) -> Result<Option<i64>, String> {
    let cleaned: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | ' ' | '\u{a0}'))
        .collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    cleaned
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(Some)
        .ok_or_else(|| "Use a whole number, such as 18000.".to_owned())
}

/// An amount such as `12500`, `12,500.50` or `$12,500`, kept in cents. A dot
/// followed by three digits (`12.345`) is refused: it reads as thousands in
/// some countries and as a fraction in others, and guessing loses money.
pub fn parse_money(raw: &str) -> Result<Option<i64>, String> {
    let cleaned: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '$' | '€' | '£' | ' ' | '\u{a0}'))
        .collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    let problem = || "Use an amount such as 12500 or 12500.50.".to_owned();
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, "0"));
    if fraction.len() > 2 || whole.is_empty() || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return Err(problem());
    }
    let whole: i64 = whole.parse().ok().filter(|n| *n >= 0).ok_or_else(problem)?;
    let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| problem())?;
    whole
        .checked_mul(100)
        .and_then(|n| n.checked_add(cents))
        .map(Some)
        .ok_or_else(problem)
}

/// A percentage such as `38.5` or `38.5%`.
pub fn parse_percent(raw: &str) -> Result<Option<f64>, String> {
    let cleaned = raw.trim().trim_end_matches('%').trim();
    if cleaned.is_empty() {
        return Ok(None);
    }
    cleaned
        .parse::<f64>()
        .ok()
        .filter(|p| p.is_finite() && *p >= 0.0 && *p <= 100_000.0)
        .map(Some)
        .ok_or_else(|| "Use a percentage, such as 38.5.".to_owned())
}

/// Cents as the form shows them: `12500.00`.
pub fn format_money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_thousands_separators_and_refuse_words() {
        assert_eq!(parse_count(" 18,000 "), Ok(Some(18000)));
        assert_eq!(parse_count("18 000"), Ok(Some(18000)));
        assert_eq!(parse_count(""), Ok(None));
        assert!(parse_count("-5").is_err());
        assert!(parse_count("12.345").is_err());
        assert!(parse_count("many").is_err());
    }

    #[test]
    fn money_takes_currency_signs_and_refuses_an_ambiguous_dot() {
        assert_eq!(parse_money("$12,500"), Ok(Some(1_250_000)));
        assert_eq!(parse_money("$12,500.5"), Ok(Some(1_250_050)));
        assert_eq!(parse_money("99"), Ok(Some(9900)));
        assert!(parse_money("12.345").is_err());
        assert!(parse_money("1.2x").is_err());
        assert!(parse_money("-3").is_err());
        assert_eq!(format_money(1_250_050), "12500.50");
    }

    #[test]
    fn percentages_take_a_sign() {
        assert_eq!(parse_percent("38.5%"), Ok(Some(38.5)));
        assert_eq!(parse_percent(""), Ok(None));
        assert!(parse_percent("lots").is_err());
    }
}
