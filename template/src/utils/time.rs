//! UTC timestamps. Timestamps only ever go into manifests and metadata, never into hashed data files,
//! so re-runs stay byte-for-byte reproducible.

use jiff::Timestamp;

/// The current time as RFC 3339 UTC, to the second, e.g. `2024-05-01T12:34:56Z`.
pub fn now_rfc3339() -> String {
    rfc3339(Timestamp::now())
}

fn rfc3339(timestamp: Timestamp) -> String {
    timestamp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_instants_to_the_second_in_utc() {
        let at = |seconds| rfc3339(Timestamp::from_second(seconds).unwrap());
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_700_000_000), "2023-11-14T22:13:20Z");
        let now = now_rfc3339();
        assert_eq!(
            (now.len(), &now[10..11], &now[19..]),
            (20, "T", "Z"),
            "{now}"
        );
    }
}
