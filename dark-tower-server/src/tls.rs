//! Development TLS: a fresh self-signed ECDSA P-256 certificate valid for 14 days, the longest
//! browsers accept with `serverCertificateHashes`.

use wtransport::Identity;

/// Creates the development identity for `names` (host names and IP addresses).
pub fn dev_identity(names: &[String]) -> Result<Identity, String> {
    Identity::self_signed_builder()
        .subject_alt_names(names)
        .from_now_utc()
        .validity_days(14)
        .build()
        .map_err(|e| e.to_string())
}

/// Lowercase hex SHA-256 of the identity's leaf certificate (DER), as clients pin it.
pub fn certificate_sha256(identity: &Identity) -> String {
    identity
        .certificate_chain()
        .as_slice()
        .first()
        .map(|c| hex::encode(c.hash().as_ref()))
        .unwrap_or_default()
}
