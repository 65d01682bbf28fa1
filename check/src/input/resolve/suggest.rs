//! What to write instead of a duration no component can read: `2 minutes` is `2m0s`.

use faasim_model::duration::{NS_PER_SECOND, format_go, read_strict};

/// A Go duration for a value people write by mistake (`2 minutes`, `90 sec`, `1d`).
pub(crate) fn suggest_duration(raw: &str) -> Option<String> {
    let mut text: String = raw
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for (words, unit) in [
        (&["milliseconds", "millisecond", "millis", "msec"][..], "ms"),
        (&["minutes", "minute", "mins", "min"][..], "m"),
        (&["seconds", "second", "secs", "sec"][..], "s"),
        (&["hours", "hour", "hrs", "hr"][..], "h"),
    ] {
        for word in words {
            text = text.replace(word, unit);
        }
    }
    // Days: Go has no unit for them.
    let mut days_total: Option<i64> = None;
    if let Some((number, rest)) = text
        .split_once("days")
        .or_else(|| text.split_once("day"))
        .or_else(|| text.split_once('d'))
        && let Ok(days) = number.parse::<i64>()
    {
        days_total = Some(days);
        text = rest.to_string();
    }
    let mut ns = if text.is_empty() {
        Some(0)
    } else {
        read_strict(&text).ok()
    }?;
    if let Some(days) = days_total {
        ns = ns.checked_add(days.checked_mul(24 * 3600 * NS_PER_SECOND)?)?;
    }
    (ns > 0 && raw.trim() != format_go(ns)).then(|| format_go(ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest_duration("2 minutes").as_deref(), Some("2m0s"));
        assert_eq!(suggest_duration("90 sec").as_deref(), Some("1m30s"));
        assert_eq!(suggest_duration("1h30min").as_deref(), Some("1h30m0s"));
        assert_eq!(suggest_duration("1d").as_deref(), Some("24h0m0s"));
        assert_eq!(suggest_duration("2m 30s").as_deref(), Some("2m30s"));
        assert_eq!(suggest_duration("lots"), None);
        assert_eq!(suggest_duration("2m0s"), None);
    }
}
