//! Transport traits: what protocol code needs from a WebTransport session, without naming the
//! library that provides it. [`wt`] (feature `wtransport`) implements them with wtransport; tests
//! or other transports can supply their own.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;

#[cfg(feature = "wtransport")]
pub mod wt;

/// Why a transport operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The peer closed the session with an application code.
    #[error("session closed by peer with code {code}: {reason}")]
    ClosedByPeer {
        /// Application error code (see [`crate::ErrorCode::wire`]).
        code: u32,
        /// Reason text.
        reason: String,
    },
    /// We closed the session.
    #[error("session closed locally")]
    ClosedLocally,
    /// The connection was lost (timeout, reset, protocol error).
    #[error("connection lost: {0}")]
    Lost(String),
    /// The peer reset the stream.
    #[error("stream reset with code {0}")]
    StreamReset(u32),
    /// The peer stopped the stream we write.
    #[error("stream stopped with code {0}")]
    StreamStopped(u32),
    /// A datagram too large for the path.
    #[error("datagram too large")]
    DatagramTooLarge,
    /// Other failure.
    #[error("{0}")]
    Other(String),
}

/// One WebTransport session. Cloning gives another handle to the same session.
pub trait Session: Clone + Send + Sync + 'static {
    /// The sending half of a stream.
    type Send: SendStream;
    /// The receiving half of a stream.
    type Recv: RecvStream;

    /// Opens a unidirectional stream.
    fn open_uni(&self) -> impl Future<Output = Result<Self::Send, TransportError>> + Send;
    /// Opens a bidirectional stream.
    fn open_bi(&self) -> impl Future<Output = Result<(Self::Send, Self::Recv), TransportError>> + Send;
    /// Accepts the next unidirectional stream from the peer.
    fn accept_uni(&self) -> impl Future<Output = Result<Self::Recv, TransportError>> + Send;
    /// Accepts the next bidirectional stream from the peer.
    fn accept_bi(&self) -> impl Future<Output = Result<(Self::Send, Self::Recv), TransportError>> + Send;
    /// Sends a datagram (unreliable).
    fn send_datagram(&self, data: Bytes) -> Result<(), TransportError>;
    /// Receives the next datagram.
    fn recv_datagram(&self) -> impl Future<Output = Result<Bytes, TransportError>> + Send;
    /// Largest datagram payload the path allows now, if datagrams are supported.
    fn max_datagram_size(&self) -> Option<usize>;
    /// Closes the session with an application code.
    fn close(&self, code: u32, reason: &str);
    /// Resolves when the session is closed, with why.
    fn closed(&self) -> impl Future<Output = TransportError> + Send;
    /// Smoothed round-trip time.
    fn rtt(&self) -> Duration;
    /// Counters of the connection's network path, for connection quality. The default knows
    /// only the RTT.
    fn path_stats(&self) -> PathStats {
        PathStats { rtt: self.rtt(), sent_packets: 0, lost_packets: 0 }
    }
}

/// A snapshot of a connection's path counters; loss is the change of `lost_packets` over the
/// change of `sent_packets` between two snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PathStats {
    /// Smoothed round-trip time.
    pub rtt: Duration,
    /// Packets sent since the connection opened.
    pub sent_packets: u64,
    /// Packets declared lost since the connection opened.
    pub lost_packets: u64,
}

/// The sending half of a stream.
pub trait SendStream: Send + 'static {
    /// Writes all of `data`.
    fn write_all(&mut self, data: &[u8]) -> impl Future<Output = Result<(), TransportError>> + Send;
    /// Writes all of `data`, handing the shared buffer itself to the transport where it can
    /// (no copy: what the SFU's fan-out relies on). By default, [`SendStream::write_all`].
    fn write_bytes(&mut self, data: Bytes) -> impl Future<Output = Result<(), TransportError>> + Send {
        async move { self.write_all(&data).await }
    }
    /// Finishes the stream gracefully: no more data will be written. Returns at once; buffered
    /// data is still delivered.
    fn finish(&mut self) -> Result<(), TransportError>;
    /// After [`SendStream::finish`]: resolves once the peer has acknowledged everything written
    /// (or stopped the stream, or the session ended). Use before closing a session whose last
    /// words must arrive.
    fn flushed(&mut self) -> impl Future<Output = ()> + Send;
    /// Abandons the stream with a code; unsent data is discarded.
    fn reset(&mut self, code: u32);
    /// Sets the send priority; higher goes first.
    fn set_priority(&mut self, priority: i32);
}

/// The receiving half of a stream.
pub trait RecvStream: Send + 'static {
    /// Reads into `buf`; `Ok(None)` at the end of the stream.
    fn read(&mut self, buf: &mut [u8]) -> impl Future<Output = Result<Option<usize>, TransportError>> + Send;
    /// Asks the peer to stop sending.
    fn stop(self, code: u32);
}

/// Pulls the frames of one media stream, in order.
///
/// [`MediaStreamFrames::next`] returns `Ok(None)` when the stream ends cleanly or the peer
/// abandons it (reset, lost connection), and the codec error when it carries something malformed;
/// the caller decides what that costs the session. Frames above the limit are refused before their
/// body is buffered.
pub struct MediaStreamFrames<R> {
    recv: R,
    reader: crate::codec::media::MediaStreamReader,
    buf: Vec<u8>,
}

impl<R: RecvStream> MediaStreamFrames<R> {
    /// Reads `recv`, allowing frames of up to `max_frame` bytes.
    pub fn new(recv: R, max_frame: usize) -> Self {
        Self {
            recv,
            reader: crate::codec::media::MediaStreamReader::new(max_frame),
            buf: vec![0u8; 32 * 1024],
        }
    }

    /// The next frame.
    pub async fn next(
        &mut self,
    ) -> Result<Option<crate::codec::media::MediaFrame>, crate::codec::media::MediaCodecError> {
        loop {
            if let Some(frame) = self.reader.next_frame()? {
                return Ok(Some(frame));
            }
            match self.recv.read(&mut self.buf).await {
                Ok(Some(n)) => self.reader.push(&self.buf[..n]),
                Ok(None) => return self.reader.finish().map(|()| None),
                Err(_) => return Ok(None),
            }
        }
    }

    /// Gives the stream up, asking the peer to stop sending with `code`.
    pub fn stop(self, code: u32) {
        self.recv.stop(code);
    }
}
