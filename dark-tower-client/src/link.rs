//! The live connection of a room — signaling session and media session — replaced as a whole
//! when the room resumes after a dropped connection.

use std::sync::{Arc, RwLock};

use dark_tower_core::transport::wt::WtSession;

/// One generation of the room's connection.
pub(crate) struct Link {
    pub(crate) signal_session: WtSession,
    pub(crate) media: WtSession,
    /// Increases with every resume; a group stream opened on an older generation is gone.
    pub(crate) generation: u64,
}

/// The current [`Link`], shared by the room, its tracks and the reconnect task.
pub(crate) struct LinkCell(RwLock<Arc<Link>>);

impl LinkCell {
    pub(crate) fn new(link: Link) -> Arc<Self> {
        Arc::new(Self(RwLock::new(Arc::new(link))))
    }

    pub(crate) fn get(&self) -> Arc<Link> {
        // Writers only swap an Arc: a poisoned lock still holds a consistent value.
        Arc::clone(&self.0.read().unwrap_or_else(|p| p.into_inner()))
    }

    pub(crate) fn set(&self, link: Link) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(link);
    }
}
