//! Opaque global ids: `base64url("Kind:uuid")`. Clients must not parse them; the kind lets
//! `node(id:)` route and lets an id of one kind be refused where another is expected.

use async_graphql::ID;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub fn encode_id(kind: &str, raw: &str) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{kind}:{raw}")))
}

/// The raw id if `id` is a well-formed id of `kind`; `None` otherwise (callers answer NOT_FOUND,
/// so a malformed id and a missing one look the same).
pub fn decode_id(kind: &str, id: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(id).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (k, raw) = text.split_once(':')?;
    (k == kind && !raw.is_empty()).then(|| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_keep_their_kind() {
        let id = encode_id("Tenant", "5f0c");
        assert_eq!(decode_id("Tenant", &id), Some("5f0c".to_owned()));
        assert_eq!(decode_id("Product", &id), None);
        assert_eq!(decode_id("Tenant", "not base64!"), None);
    }
}
