//! A participant's display name and free-form metadata: set by itself (`SetMetadata`) or by a
//! moderator (`UpdateParticipant`); everyone hears of it through `ParticipantUpdated`.

use dark_tower_core::error::{ErrorCode, WireError};
use dark_tower_core::ids::ParticipantId;
use dark_tower_core::proto::sig;

use super::{Meeting, S};

/// Longest display name, in bytes.
pub const MAX_NAME: usize = 256;
/// Longest metadata, in bytes.
pub const MAX_METADATA: usize = 16 * 1024;

/// Checks the sizes of a name and metadata about to be set.
pub fn check(name: Option<&str>, metadata: Option<&str>) -> Result<(), WireError> {
    if name.is_some_and(|n| n.len() > MAX_NAME) {
        return Err(WireError::new(ErrorCode::InvalidRequest, "name longer than 256 bytes"));
    }
    if metadata.is_some_and(|m| m.len() > MAX_METADATA) {
        return Err(WireError::new(ErrorCode::MessageTooLarge, "metadata longer than 16384 bytes"));
    }
    Ok(())
}

impl Meeting {
    pub(super) fn set_own_metadata(&mut self, from: ParticipantId, rid: u32, m: sig::SetMetadata) {
        if let Err(e) = check(m.name.as_deref(), m.metadata.as_deref()) {
            return self.send(from, rid, S::Error(e.to_proto()));
        }
        let Some(member) = self.members.get_mut(&from) else { return };
        if let Some(name) = m.name {
            member.name = name;
        }
        if let Some(metadata) = m.metadata {
            member.metadata = metadata;
        }
        self.send(from, rid, S::Ack(sig::Ack {}));
        self.announce_updated(from);
    }
}
