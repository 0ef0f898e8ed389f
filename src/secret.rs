//! Redaction by type: the one wrapper every credential travels in, and the
//! helper that prints message bodies as their size.
//!
//! Tokens, refresh tokens, OAuth client secrets, personal access tokens and
//! authorization codes are [`Secret`]s from the moment they enter Ember (an
//! environment variable, a form, a token endpoint's answer, the keychain)
//! until the moment they leave it (an `Authorization` header, a token
//! request, the keychain). Its `Debug` and `Display` print a placeholder, so
//! a `?value` in a log line, an error built with `format!`, or a derived
//! `Debug` of a struct that holds one can never print the value; reading it
//! takes a call to [`Secret::expose`], which is easy to find in review.
//!
//! A secret still serialises as its plain string: the keychain keeps tokens
//! as JSON, and the window sends a new account's secret to the core. That
//! is the only way out besides `expose`, and nothing serialises into logs.
//!
//! Message bodies are not wrapped (they are rendered, indexed and searched
//! everywhere); the types that carry them print them with [`BodyLen`]
//! instead, as their length.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a secret prints as.
pub const REDACTED: &str = "[redacted]";

/// A credential. Prints as [`REDACTED`]; [`Secret::expose`] reads it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that must send or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty or only white space (a blank form field).
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Prints an optional body as its length (`<412 bytes>`, `None`), for the
/// `Debug` of types that carry mail bodies.
#[derive(Clone, Copy)]
pub struct BodyLen<'a>(pub Option<&'a str>);

impl fmt::Debug for BodyLen<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(body) => write!(f, "<{} bytes>", body.len()),
            None => f.write_str("None"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let secret = Secret::new("ya29.canary-token");
        let holder = Some(vec![secret.clone()]);
        for printed in [
            format!("{secret}"),
            format!("{secret:?}"),
            format!("{secret:#?}"),
            format!("{holder:?}"),
            format!("{:>40}", secret),
        ] {
            assert!(!printed.contains("canary"), "printed the secret: {printed}");
            assert!(printed.contains(REDACTED), "{printed}");
        }
        assert_eq!(secret.expose(), "ya29.canary-token");
    }

    #[test]
    fn a_secret_serialises_as_its_plain_string_for_the_keychain() -> serde_json::Result<()> {
        let secret = Secret::new("s3cret");
        assert_eq!(serde_json::to_string(&secret)?, "\"s3cret\"");
        let back: Secret = serde_json::from_str("\"s3cret\"")?;
        assert_eq!(back, secret);
        Ok(())
    }

    #[test]
    fn bodies_print_as_their_length() {
        let body = "Dear Alex, the launch code is 0000";
        assert_eq!(format!("{:?}", BodyLen(Some(body))), "<34 bytes>");
        assert_eq!(format!("{:?}", BodyLen(None)), "None");
    }
}
