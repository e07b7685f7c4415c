//! Typed identifiers. Ids that travel on the wire have one canonical text form.

use std::fmt;
use std::str::FromStr;

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Empty, too long, or containing characters outside the allowed set.
    #[error("invalid {kind}: {reason}")]
    Invalid {
        /// Which kind of id.
        kind: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// An app-chosen meeting name: 1–128 characters of `A–Z a–z 0–9 - _ .`, unique on the server.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct MeetingName(String);

impl MeetingName {
    /// Longest accepted name.
    pub const MAX_LEN: usize = 128;

    /// Validates `name`.
    pub fn new(name: impl Into<String>) -> Result<Self, IdError> {
        let name = name.into();
        let invalid = |reason| IdError::Invalid { kind: "meeting name", reason };
        if name.is_empty() {
            return Err(invalid("empty"));
        }
        if name.len() > Self::MAX_LEN {
            return Err(invalid("longer than 128 bytes"));
        }
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
            return Err(invalid("only A-Z a-z 0-9 - _ . are allowed"));
        }
        Ok(Self(name))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for MeetingName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        MeetingName::new(s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for MeetingName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MeetingName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MeetingName({})", self.0)
    }
}

impl FromStr for MeetingName {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// The identity of a user, from the token's `sub`: 1–256 bytes, no control characters.
///
/// Its `Debug` form is redacted so identities do not leak into logs by accident.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Identity(String);

impl Identity {
    /// Longest accepted identity.
    pub const MAX_LEN: usize = 256;

    /// Validates `identity`.
    pub fn new(identity: impl Into<String>) -> Result<Self, IdError> {
        let s = identity.into();
        let invalid = |reason| IdError::Invalid { kind: "identity", reason };
        if s.is_empty() {
            return Err(invalid("empty"));
        }
        if s.len() > Self::MAX_LEN {
            return Err(invalid("longer than 256 bytes"));
        }
        if s.chars().any(char::is_control) {
            return Err(invalid("control characters are not allowed"));
        }
        Ok(Self(s))
    }

    /// The identity as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for Identity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Identity::new(s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity(<{} bytes>)", self.0.len())
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u64);

        impl $name {
            /// Text prefix of this id kind.
            pub const PREFIX: &'static str = $prefix;

            /// Wraps a raw value.
            pub const fn from_u64(v: u64) -> Self {
                Self(v)
            }

            /// A random id.
            pub fn random() -> Self {
                Self(rand::random())
            }

            /// The raw value.
            pub const fn as_u64(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{:016x}", $prefix, self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let invalid = IdError::Invalid { kind: $kind, reason: concat!("expected ", $prefix, " and 16 hex digits") };
                let hex = s.strip_prefix($prefix).ok_or(invalid.clone())?;
                if hex.len() != 16 {
                    return Err(invalid);
                }
                u64::from_str_radix(hex, 16).map(Self).map_err(|_| invalid)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

prefixed_id!(
    /// A participant's session in a meeting: `PA_` + 16 lowercase hex digits.
    ParticipantId, "PA_", "participant id"
);
prefixed_id!(
    /// A published track: `TR_` + 16 lowercase hex digits.
    TrackId, "TR_", "track id"
);

/// The 32-bit alias that media frames of a track carry; unique within a meeting.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct TrackAlias(pub u32);

impl fmt::Display for TrackAlias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_names() {
        assert!(MeetingName::new("daily-standup_2.0").is_ok());
        assert!(MeetingName::new("").is_err());
        assert!(MeetingName::new("a b").is_err());
        assert!(MeetingName::new("a/b").is_err());
        assert!(MeetingName::new("x".repeat(129)).is_err());
    }

    #[test]
    fn prefixed_ids_round_trip() {
        let p = ParticipantId::from_u64(0xdead_beef);
        assert_eq!(p.to_string(), "PA_00000000deadbeef");
        assert_eq!(p.to_string().parse::<ParticipantId>(), Ok(p));
        assert!("TR_00000000deadbeef".parse::<ParticipantId>().is_err());
        assert!("PA_123".parse::<ParticipantId>().is_err());
        assert!("PA_zzzzzzzzzzzzzzzz".parse::<ParticipantId>().is_err());
    }

    #[test]
    fn identity_debug_is_redacted() {
        let id = Identity::new("alice@example.com").unwrap();
        assert!(!format!("{id:?}").contains("alice"));
    }
}
