//! Cross-node events: publish / subscribe by topic. One node uses [`MemoryEventBus`]; many nodes
//! share a Redis-backed bus (server crate, `redis` feature).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use futures::channel::mpsc;

use crate::store::StoreError;

/// A stream of payloads published on one topic.
pub type EventSubscription = mpsc::UnboundedReceiver<Bytes>;

/// Publish / subscribe between nodes.
#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Delivers `payload` to every current subscriber of `topic` (at most once each).
    async fn publish(&self, topic: &str, payload: Bytes) -> Result<(), StoreError>;
    /// Subscribes to `topic`; dropping the receiver unsubscribes.
    async fn subscribe(&self, topic: &str) -> Result<EventSubscription, StoreError>;
}

/// In-process [`EventBus`].
#[derive(Debug, Default)]
pub struct MemoryEventBus {
    topics: Mutex<HashMap<String, Vec<mpsc::UnboundedSender<Bytes>>>>,
}

#[async_trait]
impl EventBus for MemoryEventBus {
    async fn publish(&self, topic: &str, payload: Bytes) -> Result<(), StoreError> {
        let mut topics = self.topics.lock().map_err(|_| StoreError::Backend("poisoned lock".into()))?;
        if let Some(subs) = topics.get_mut(topic) {
            subs.retain(|s| s.unbounded_send(payload.clone()).is_ok());
        }
        Ok(())
    }

    async fn subscribe(&self, topic: &str) -> Result<EventSubscription, StoreError> {
        let (tx, rx) = mpsc::unbounded();
        self.topics
            .lock()
            .map_err(|_| StoreError::Backend("poisoned lock".into()))?
            .entry(topic.to_owned())
            .or_default()
            .push(tx);
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use futures::executor::block_on;

    #[test]
    fn subscribers_get_their_topic_only() {
        block_on(async {
            let bus = MemoryEventBus::default();
            let mut a = bus.subscribe("a").await.unwrap();
            let mut b = bus.subscribe("b").await.unwrap();
            bus.publish("a", Bytes::from_static(b"1")).await.unwrap();
            bus.publish("b", Bytes::from_static(b"2")).await.unwrap();
            assert_eq!(a.next().await.unwrap(), Bytes::from_static(b"1"));
            assert_eq!(b.next().await.unwrap(), Bytes::from_static(b"2"));
            drop(a);
            bus.publish("a", Bytes::from_static(b"3")).await.unwrap();
        });
    }
}
