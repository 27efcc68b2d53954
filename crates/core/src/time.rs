//! Times on the wire: RFC 3339 in UTC with milliseconds and `Z`
//! (`2026-11-26T06:09:27.123Z`), whatever precision the database keeps.

use chrono::{DateTime, SecondsFormat, SubsecRound as _, Utc};

pub type Timestamp = DateTime<Utc>;

/// The current time to the millisecond: the precision of the wire format,
/// and one that every backend stores exactly (PostgreSQL keeps microseconds).
pub fn now() -> Timestamp {
    Utc::now().trunc_subsecs(3)
}

/// The time of a change to a record last changed at `previous`: now, or a
/// millisecond later than `previous` if the clock has not moved past it,
/// so that a compare-and-swap on the change time always sees a change.
pub fn after(previous: Timestamp) -> Timestamp {
    now().max(previous + chrono::Duration::milliseconds(1))
}

pub fn format(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `#[serde(with = "basic_admin_core::time::rfc3339")]` for wire structs.
pub mod rfc3339 {
    use super::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        chrono::DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// `#[serde(default, with = "basic_admin_core::time::optional_rfc3339")]`
/// for a time that may be absent (or null).
pub mod optional_rfc3339 {
    use super::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| {
                chrono::DateTime::parse_from_rfc3339(&text)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_change_is_always_later_than_the_last() {
        let future = now() + chrono::Duration::seconds(5);
        assert_eq!(after(future), future + chrono::Duration::milliseconds(1));
        let past = now() - chrono::Duration::seconds(5);
        assert!(after(past) > past + chrono::Duration::seconds(4));
    }

    #[test]
    fn formats_with_millis_and_z() {
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 6, 9, 27).unwrap() + chrono::Duration::microseconds(123_456);
        assert_eq!(format(&t), "2026-11-26T06:09:27.123Z");
    }
}
