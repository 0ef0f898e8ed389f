//! The providers' size limits, checked before a message is queued so the
//! user hears "too large" in the composer, not minutes later from a server.

use super::ComposeError;
use crate::model::ProviderKind;

/// What one provider accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeLimits {
    /// Every attachment together, in bytes.
    pub attachments_total: u64,
    /// One attachment, in bytes.
    pub attachment: u64,
}

impl SizeLimits {
    /// The limits of `provider`'s sending API.
    ///
    /// Gmail: 25 MB of attachments per message (its documented limit; the
    /// raw message may reach 35 MB once encoded). Microsoft 365: attachments
    /// go up one request each, and a request may carry at most 3 MB of
    /// attachment (larger files need an upload session, which Ember does not
    /// use yet); a message may hold 35 MB in all.
    pub fn of(provider: ProviderKind) -> Self {
        const MB: u64 = 1024 * 1024;
        match provider {
            ProviderKind::Gmail => Self {
                attachments_total: 25 * MB,
                attachment: 25 * MB,
            },
            ProviderKind::Graph | ProviderKind::Ado => Self {
                attachments_total: 35 * MB,
                attachment: 3 * MB,
            },
        }
    }
}

/// Checks attachment sizes (`sizes`, in bytes) against `limits`.
pub fn check_size(limits: SizeLimits, sizes: &[(String, u64)]) -> Result<(), ComposeError> {
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    for (name, size) in sizes {
        if *size > limits.attachment {
            return Err(ComposeError::TooLarge(format!(
                "{name} is {:.1} MB; this account sends files of at most {:.0} MB",
                mb(*size),
                mb(limits.attachment)
            )));
        }
    }
    let total: u64 = sizes.iter().map(|(_, s)| s).sum();
    if total > limits.attachments_total {
        return Err(ComposeError::TooLarge(format!(
            "the attachments come to {:.1} MB; this account sends at most {:.0} MB per message",
            mb(total),
            mb(limits.attachments_total)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_past_the_limits_are_refused_with_their_sizes() {
        let gmail = SizeLimits::of(ProviderKind::Gmail);
        let mb = 1024 * 1024;
        assert!(check_size(gmail, &[("a.pdf".into(), 20 * mb)]).is_ok());
        let two = [("a.pdf".into(), 20 * mb), ("b.pdf".into(), 6 * mb)];
        let err = check_size(gmail, &two).unwrap_err().to_string();
        assert!(err.contains("26.0 MB") && err.contains("25 MB"), "{err}");
        let graph = SizeLimits::of(ProviderKind::Graph);
        let err = check_size(graph, &[("big.zip".into(), 4 * mb)])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("big.zip is 4.0 MB"), "{err}");
    }
}
