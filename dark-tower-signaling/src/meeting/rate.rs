//! Per-participant rate limiting of signaling messages: a token bucket driven by the caller's
//! clock.

use std::time::{Duration, SystemTime};

/// Rate limit settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Messages allowed in a burst.
    pub burst: f64,
    /// Messages per second sustained.
    pub per_second: f64,
    /// Consecutive refused messages after which the participant is disconnected.
    pub disconnect_after: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self { burst: 100.0, per_second: 50.0, disconnect_after: 500 }
    }
}

/// What to do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Handle it.
    Allow,
    /// Refuse it with `rate_limited`; `reply` is false once the sender was told recently, so a
    /// flood does not produce a flood of errors.
    Refuse {
        /// Send an error reply.
        reply: bool,
    },
    /// Refused too often in a row: disconnect.
    Disconnect,
}

/// A token bucket.
#[derive(Debug, Clone)]
pub struct Bucket {
    limit: RateLimit,
    tokens: f64,
    last: SystemTime,
    refused_in_row: u32,
}

impl Bucket {
    /// A full bucket at `now`.
    pub fn new(limit: RateLimit, now: SystemTime) -> Self {
        Self { limit, tokens: limit.burst, last: now, refused_in_row: 0 }
    }

    /// Takes one token at `now`.
    pub fn take(&mut self, now: SystemTime) -> Verdict {
        let elapsed = now.duration_since(self.last).unwrap_or(Duration::ZERO);
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.limit.per_second).min(self.limit.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused_in_row = 0;
            return Verdict::Allow;
        }
        self.refused_in_row += 1;
        if self.refused_in_row >= self.limit.disconnect_after {
            return Verdict::Disconnect;
        }
        Verdict::Refuse { reply: self.refused_in_row <= 10 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_sustained_rate_then_disconnect() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let limit = RateLimit { burst: 10.0, per_second: 5.0, disconnect_after: 20 };
        let mut b = Bucket::new(limit, t0);
        for _ in 0..10 {
            assert_eq!(b.take(t0), Verdict::Allow);
        }
        assert_eq!(b.take(t0), Verdict::Refuse { reply: true });
        // 200 ms later one token has been refilled.
        let t1 = t0 + Duration::from_millis(200);
        assert_eq!(b.take(t1), Verdict::Allow);
        assert_eq!(b.take(t1), Verdict::Refuse { reply: true });
        // Refusals 2..=10 in a row are answered, 11..=19 silent, the 20th disconnects.
        for i in 2..=20 {
            let v = b.take(t1);
            if i <= 10 {
                assert_eq!(v, Verdict::Refuse { reply: true });
            } else if i < 20 {
                assert_eq!(v, Verdict::Refuse { reply: false });
            } else {
                assert_eq!(v, Verdict::Disconnect);
            }
        }
    }
}
