//! Node registry: which nodes run which roles, their load and liveness. One node uses the
//! in-memory registry; many nodes share a Redis-backed one (server crate, `redis` feature).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// A role a node can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    /// Global controller (REST).
    Gc,
    /// Meeting controller (signaling).
    Mc,
    /// Media handler (SFU).
    Mh,
}

/// A node as registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Unique node id.
    pub id: String,
    /// Roles it runs.
    pub roles: Vec<NodeRole>,
    /// Public WebTransport URL base, e.g. `https://10.0.0.5:4433`.
    pub webtransport_url: String,
    /// Region label for placement.
    pub region: String,
    /// Load in [0, 1].
    pub load: f32,
    /// Last heartbeat.
    pub last_seen: SystemTime,
}

/// Registry of live nodes.
#[async_trait]
pub trait NodeRegistry: Send + Sync + 'static {
    /// Adds or replaces a node.
    async fn register(&self, node: NodeInfo) -> Result<(), StoreError>;
    /// Updates load and liveness.
    async fn heartbeat(&self, id: &str, load: f32, now: SystemTime) -> Result<(), StoreError>;
    /// Removes a node (drain or shutdown).
    async fn deregister(&self, id: &str) -> Result<(), StoreError>;
    /// Nodes with `role` seen within the liveness window before `now`, least loaded first.
    async fn live_nodes(&self, role: NodeRole, now: SystemTime) -> Result<Vec<NodeInfo>, StoreError>;
}

/// In-memory [`NodeRegistry`].
#[derive(Debug)]
pub struct MemoryNodeRegistry {
    nodes: Mutex<HashMap<String, NodeInfo>>,
    liveness: Duration,
}

impl MemoryNodeRegistry {
    /// A registry considering nodes dead after `liveness` without a heartbeat.
    pub fn new(liveness: Duration) -> Self {
        Self { nodes: Mutex::default(), liveness }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, NodeInfo>>, StoreError> {
        self.nodes.lock().map_err(|_| StoreError::Backend("poisoned lock".into()))
    }
}

impl Default for MemoryNodeRegistry {
    fn default() -> Self {
        Self::new(Duration::from_secs(15))
    }
}

#[async_trait]
impl NodeRegistry for MemoryNodeRegistry {
    async fn register(&self, node: NodeInfo) -> Result<(), StoreError> {
        self.lock()?.insert(node.id.clone(), node);
        Ok(())
    }

    async fn heartbeat(&self, id: &str, load: f32, now: SystemTime) -> Result<(), StoreError> {
        let mut nodes = self.lock()?;
        let n = nodes.get_mut(id).ok_or(StoreError::NotFound)?;
        n.load = load;
        n.last_seen = now;
        Ok(())
    }

    async fn deregister(&self, id: &str) -> Result<(), StoreError> {
        self.lock()?.remove(id);
        Ok(())
    }

    async fn live_nodes(&self, role: NodeRole, now: SystemTime) -> Result<Vec<NodeInfo>, StoreError> {
        let mut v: Vec<_> = self
            .lock()?
            .values()
            .filter(|n| n.roles.contains(&role))
            .filter(|n| now.duration_since(n.last_seen).map(|d| d <= self.liveness).unwrap_or(true))
            .cloned()
            .collect();
        v.sort_by(|a, b| a.load.total_cmp(&b.load).then_with(|| a.id.cmp(&b.id)));
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn stale_nodes_are_not_live() {
        block_on(async {
            let r = MemoryNodeRegistry::new(Duration::from_secs(10));
            let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
            for (id, load) in [("a", 0.5), ("b", 0.1)] {
                r.register(NodeInfo {
                    id: id.into(),
                    roles: vec![NodeRole::Mh],
                    webtransport_url: String::new(),
                    region: "local".into(),
                    load,
                    last_seen: t0,
                })
                .await
                .unwrap();
            }
            let live = r.live_nodes(NodeRole::Mh, t0).await.unwrap();
            assert_eq!(live.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), ["b", "a"]);
            r.heartbeat("a", 0.2, t0 + Duration::from_secs(8)).await.unwrap();
            let live = r.live_nodes(NodeRole::Mh, t0 + Duration::from_secs(15)).await.unwrap();
            assert_eq!(live.len(), 1);
            assert!(r.live_nodes(NodeRole::Mc, t0).await.unwrap().is_empty());
        });
    }
}
