//! Dates as WIQL constants and stored work item fields write them. The
//! parser types date literals with it, the evaluator compares stored dates
//! with it, and the rest of the Azure DevOps emulator reads
//! `System.ChangedDate` and `asOf` with it.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

pub(super) const DAY_MS: i64 = 86_400_000;

/// Parses a date constant: ISO 8601 with or without time and zone, or
/// `M/D/YYYY`. Returns UTC milliseconds and whether a time of day was given
/// (midnight counts as no time).
pub(crate) fn parse_date(s: &str) -> Option<(i64, bool)> {
    let s = s.trim();
    let ms = if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        d.timestamp_millis()
    } else if let Ok(d) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        d.and_utc().timestamp_millis()
    } else if let Ok(d) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f") {
        d.and_utc().timestamp_millis()
    } else if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis()
    } else if let Ok(d) = NaiveDate::parse_from_str(s, "%m/%d/%Y") {
        d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis()
    } else {
        return None;
    };
    Some((ms, ms.rem_euclid(DAY_MS) != 0))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_in_the_usual_forms() {
        assert_eq!(parse_date("2027-01-15"), Some((1_799_971_200_000, false)));
        assert_eq!(
            parse_date("2027-01-15T00:00:00Z"),
            Some((1_799_971_200_000, false))
        );
        assert_eq!(
            parse_date("2027-01-15T08:00:00.5Z").map(|d| d.1),
            Some(true)
        );
        assert_eq!(parse_date("1/15/2027"), Some((1_799_971_200_000, false)));
        assert_eq!(parse_date("yesterday"), None);
    }
}
