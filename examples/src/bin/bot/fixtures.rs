//! Media fixtures the bot publishes with `--media-fixtures DIR`: VP8 frames from an IVF file and
//! Opus packets from an Ogg file (both made by `examples/fixtures/make.sh`), plus optional
//! per-packet audio levels. The two containers are simple enough to read by hand: IVF is a
//! 32-byte header and length-prefixed frames; Ogg is pages of lacing-delimited packets (one
//! logical stream here).

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;

use crate::check::{self, CheckError};

/// Why a fixture could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixtureError {
    /// The file is not of the expected format, or is cut short.
    Malformed(&'static str),
    /// A frame or packet inside does not pass the structural check the bot applies to received
    /// media (so the bot would reject its own fixture).
    BadMedia(usize, CheckError),
    /// The file could not be read.
    Io(String),
}

impl std::fmt::Display for FixtureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(why) => write!(f, "malformed fixture: {why}"),
            Self::BadMedia(i, e) => write!(f, "frame {i} of the fixture: {e}"),
            Self::Io(e) => write!(f, "{e}"),
        }
    }
}

/// VP8 frames read from an IVF file.
#[derive(Debug, Clone)]
pub struct Ivf {
    /// Picture width from the IVF header.
    pub width: u16,
    /// Picture height from the IVF header.
    pub height: u16,
    /// Time between two frames (from the time base and the first two timestamps).
    pub frame_interval: Duration,
    /// The frames, in order; the first is a keyframe.
    pub frames: Vec<Bytes>,
}

fn u16_le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_le(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Reads an IVF file of VP8 frames. Every frame must pass [`check::vp8`], and the first must
/// be a keyframe (a subscriber could not decode anything before it).
pub fn parse_ivf(data: &[u8]) -> Result<Ivf, FixtureError> {
    if data.len() < 32 || &data[..4] != b"DKIF" {
        return Err(FixtureError::Malformed("not an IVF file"));
    }
    let header_len = usize::from(u16_le(data, 6));
    if &data[8..12] != b"VP80" {
        return Err(FixtureError::Malformed("IVF codec is not VP8"));
    }
    let (width, height) = (u16_le(data, 12), u16_le(data, 14));
    // The time base is `scale / rate` seconds per timestamp unit.
    let (rate, scale) = (u32_le(data, 16), u32_le(data, 20));
    if header_len < 32 || header_len > data.len() || rate == 0 || scale == 0 {
        return Err(FixtureError::Malformed("bad IVF header"));
    }
    let mut frames = Vec::new();
    let mut timestamps = Vec::new();
    let mut at = header_len;
    while at < data.len() {
        if data.len() - at < 12 {
            return Err(FixtureError::Malformed("IVF frame header cut short"));
        }
        let len = u32_le(data, at) as usize;
        timestamps.push(u64_le(data, at + 4));
        at += 12;
        if data.len() - at < len {
            return Err(FixtureError::Malformed("IVF frame cut short"));
        }
        let frame = Bytes::copy_from_slice(&data[at..at + len]);
        let info = check::vp8(&frame).map_err(|e| FixtureError::BadMedia(frames.len(), e))?;
        if frames.is_empty() && !info.keyframe {
            return Err(FixtureError::Malformed("the first VP8 frame is not a keyframe"));
        }
        frames.push(frame);
        at += len;
    }
    if frames.is_empty() {
        return Err(FixtureError::Malformed("no frames"));
    }
    let ticks = match timestamps.as_slice() {
        [a, b, ..] if b > a => b - a,
        _ => 1,
    };
    let frame_interval = Duration::from_secs_f64(ticks as f64 * f64::from(scale) / f64::from(rate));
    if frame_interval < Duration::from_millis(5) || frame_interval > Duration::from_secs(1) {
        return Err(FixtureError::Malformed("frame rate outside 1–200 fps"));
    }
    Ok(Ivf { width, height, frame_interval, frames })
}

/// The CRC-32 of Ogg pages (polynomial 0x04c11db7, not reflected, initial value 0).
fn ogg_crc(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in data {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 { (crc << 1) ^ 0x04c1_1db7 } else { crc << 1 };
        }
    }
    crc
}

/// The packets of an Ogg file with one logical stream, in order; page checksums are verified.
pub fn ogg_packets(data: &[u8]) -> Result<Vec<Bytes>, FixtureError> {
    let mut packets = Vec::new();
    let mut partial: Vec<u8> = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let page = &data[at..];
        if page.len() < 27 || &page[..4] != b"OggS" || page[4] != 0 {
            return Err(FixtureError::Malformed("not an Ogg page"));
        }
        let segments = usize::from(page[26]);
        if page.len() < 27 + segments {
            return Err(FixtureError::Malformed("Ogg segment table cut short"));
        }
        let lacing = &page[27..27 + segments];
        let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
        let page_len = 27 + segments + body_len;
        if page.len() < page_len {
            return Err(FixtureError::Malformed("Ogg page cut short"));
        }
        let mut check = page[..page_len].to_vec();
        check[22..26].fill(0);
        if ogg_crc(&check) != u32_le(page, 22) {
            return Err(FixtureError::Malformed("Ogg page checksum mismatch"));
        }
        let mut body = &page[27 + segments..page_len];
        for &l in lacing {
            let (seg, rest) = body.split_at(usize::from(l));
            partial.extend_from_slice(seg);
            body = rest;
            // A lacing value below 255 ends a packet.
            if l < 255 {
                packets.push(Bytes::from(std::mem::take(&mut partial)));
            }
        }
        at += page_len;
    }
    if !partial.is_empty() {
        return Err(FixtureError::Malformed("last Ogg packet unfinished"));
    }
    Ok(packets)
}

/// Opus audio packets read from an Ogg Opus file (RFC 7845).
#[derive(Debug, Clone)]
pub struct OggOpus {
    /// Channels from the `OpusHead` header.
    pub channels: u8,
    /// Duration of every packet (all packets must have the same).
    pub packet_duration: Duration,
    /// The audio packets (headers excluded).
    pub packets: Vec<Bytes>,
}

/// Reads an Ogg Opus file: `OpusHead`, `OpusTags`, then audio packets that all pass
/// [`check::opus`] with the same duration.
pub fn parse_ogg_opus(data: &[u8]) -> Result<OggOpus, FixtureError> {
    let mut packets = ogg_packets(data)?.into_iter();
    let head = packets.next().ok_or(FixtureError::Malformed("no OpusHead"))?;
    if head.len() < 19 || &head[..8] != b"OpusHead" {
        return Err(FixtureError::Malformed("no OpusHead"));
    }
    let channels = head[9];
    match packets.next() {
        Some(tags) if tags.starts_with(b"OpusTags") => {}
        _ => return Err(FixtureError::Malformed("no OpusTags")),
    }
    let packets: Vec<Bytes> = packets.collect();
    let mut duration = None;
    for (i, p) in packets.iter().enumerate() {
        let info = check::opus(p).map_err(|e| FixtureError::BadMedia(i, e))?;
        if *duration.get_or_insert(info.duration_us) != info.duration_us {
            return Err(FixtureError::Malformed("Opus packets of different durations"));
        }
    }
    let duration = duration.ok_or(FixtureError::Malformed("no Opus packets"))?;
    Ok(OggOpus { channels, packet_duration: Duration::from_micros(u64::from(duration)), packets })
}

/// Audio levels, one RFC 6464 level (0 loudest … 127 silence) per line.
pub fn parse_levels(text: &str) -> Result<Vec<u8>, FixtureError> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.trim().parse::<u8>() {
            Ok(v) if v <= 127 => Ok(v),
            _ => Err(FixtureError::Malformed("audio level not in 0..=127")),
        })
        .collect()
}

/// What the bot publishes in media mode.
#[derive(Debug, Clone)]
pub struct MediaFixtures {
    /// The video (`video.ivf`).
    pub video: Ivf,
    /// The audio (`audio.opus`).
    pub audio: OggOpus,
    /// The audio level of each audio packet (`audio.levels`; repeats if shorter); empty if the
    /// file is absent, and then frames carry no level.
    pub levels: Vec<u8>,
}

impl MediaFixtures {
    /// Reads `video.ivf`, `audio.opus` and, if present, `audio.levels` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, FixtureError> {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|e| FixtureError::Io(format!("{}: {e}", dir.join(name).display())))
        };
        let video = parse_ivf(&read("video.ivf")?)?;
        let audio = parse_ogg_opus(&read("audio.opus")?)?;
        // Receivers (the browser client among them) decode a microphone track as mono.
        if audio.channels != 1 {
            return Err(FixtureError::Malformed("audio.opus is not mono"));
        }
        let levels = match std::fs::read_to_string(dir.join("audio.levels")) {
            Ok(text) => parse_levels(&text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(FixtureError::Io(format!("audio.levels: {e}"))),
        };
        Ok(Self { video, audio, levels })
    }

    /// The audio level of packet `n` (counting across loops).
    pub fn level(&self, n: usize) -> Option<u8> {
        if self.levels.is_empty() { None } else { Some(self.levels[n % self.levels.len()]) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
    }

    /// A VP8 keyframe of `w`x`h` (frame tag, start code, size) followed by `body` bytes.
    pub(crate) fn vp8_key(w: u16, h: u16, body: usize) -> Vec<u8> {
        let partition = body as u32;
        let tag = (partition << 5) | 0x10; // keyframe (bit 0 = 0), version 0, shown
        let mut f = tag.to_le_bytes()[..3].to_vec();
        f.extend_from_slice(&[0x9d, 0x01, 0x2a]);
        f.extend_from_slice(&w.to_le_bytes());
        f.extend_from_slice(&h.to_le_bytes());
        f.extend(std::iter::repeat_n(0x55, body));
        f
    }

    fn ivf(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut out = b"DKIF".to_vec();
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&32u16.to_le_bytes());
        out.extend_from_slice(b"VP80");
        out.extend_from_slice(&320u16.to_le_bytes());
        out.extend_from_slice(&240u16.to_le_bytes());
        out.extend_from_slice(&15u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&(frames.len() as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        for (i, f) in frames.iter().enumerate() {
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(&(i as u64).to_le_bytes());
            out.extend_from_slice(f);
        }
        out
    }

    #[test]
    fn ivf_frames_and_frame_rate_are_read() {
        let delta = {
            let tag: u32 = (4 << 5) | 0x11;
            let mut f = tag.to_le_bytes()[..3].to_vec();
            f.extend_from_slice(&[1, 2, 3, 4]);
            f
        };
        let parsed = parse_ivf(&ivf(&[vp8_key(320, 240, 20), delta.clone()])).expect("valid");
        assert_eq!((parsed.width, parsed.height), (320, 240));
        assert_eq!(parsed.frames.len(), 2);
        assert_eq!(parsed.frames[1].as_ref(), delta.as_slice());
        assert_eq!(parsed.frame_interval.as_micros(), 66_666);
    }

    #[test]
    fn ivf_that_starts_without_a_keyframe_or_is_cut_short_is_refused() {
        let delta = vec![0x31, 0, 0, 1]; // a valid delta frame (first partition of 1 byte)
        assert!(matches!(parse_ivf(&ivf(&[delta])), Err(FixtureError::Malformed(_))));
        let good = ivf(&[vp8_key(320, 240, 20)]);
        assert!(parse_ivf(&good[..good.len() - 1]).is_err());
        assert!(parse_ivf(b"RIFF").is_err());
    }

    /// One Ogg page holding `packets` (each under 255 bytes), with a correct checksum.
    fn ogg_page(seq: u32, packets: &[&[u8]]) -> Vec<u8> {
        let mut p = b"OggS\0\0".to_vec();
        p.extend_from_slice(&0u64.to_le_bytes()); // granule
        p.extend_from_slice(&1u32.to_le_bytes()); // serial
        p.extend_from_slice(&seq.to_le_bytes());
        p.extend_from_slice(&0u32.to_le_bytes()); // checksum, filled below
        p.push(packets.len() as u8);
        for pk in packets {
            p.push(pk.len() as u8);
        }
        for pk in packets {
            p.extend_from_slice(pk);
        }
        let crc = ogg_crc(&p);
        p[22..26].copy_from_slice(&crc.to_le_bytes());
        p
    }

    #[test]
    fn ogg_opus_packets_are_read_and_checked() {
        let mut head = b"OpusHead".to_vec();
        head.extend_from_slice(&[1, 1, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0]);
        let audio: &[u8] = &[0x48, 1, 2, 3]; // config 9: SILK WB 20 ms, mono, one frame
        let mut file = ogg_page(0, &[&head]);
        file.extend(ogg_page(1, &[b"OpusTags\0\0\0\0\0\0\0\0"]));
        file.extend(ogg_page(2, &[audio, audio]));
        let parsed = parse_ogg_opus(&file).expect("valid");
        assert_eq!(parsed.channels, 1);
        assert_eq!(parsed.packets.len(), 2);
        assert_eq!(parsed.packet_duration, Duration::from_millis(20));

        let mut corrupt = file.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 1;
        assert_eq!(
            parse_ogg_opus(&corrupt).err(),
            Some(FixtureError::Malformed("Ogg page checksum mismatch"))
        );
    }

    #[test]
    fn levels_are_read_and_bounded() {
        assert_eq!(parse_levels("18\n16\n\n127\n").expect("valid"), vec![18, 16, 127]);
        assert!(parse_levels("128\n").is_err());
        assert!(parse_levels("loud\n").is_err());
    }

    /// The first bits of a SILK frame with RFC 6716's range decoder (§4.1): enough to read
    /// the VAD and LBRR (in-band FEC) flags of a mono SILK-only packet (§4.2.3).
    struct RangeDecoder<'a> {
        buf: &'a [u8],
        pos: usize,
        rem: u32,
        rng: u32,
        val: u32,
    }

    impl<'a> RangeDecoder<'a> {
        fn new(buf: &'a [u8]) -> Self {
            let mut d = Self { buf, pos: 0, rem: 0, rng: 128, val: 0 };
            d.rem = d.byte();
            d.val = 127 - (d.rem >> 1);
            d.normalize();
            d
        }

        fn byte(&mut self) -> u32 {
            let b = self.buf.get(self.pos).copied().unwrap_or(0);
            self.pos += 1;
            u32::from(b)
        }

        fn normalize(&mut self) {
            while self.rng <= 1 << 23 {
                self.rng <<= 8;
                let sym = ((self.rem << 8) | {
                    self.rem = self.byte();
                    self.rem
                }) >> 1;
                self.val = ((self.val << 8) + (255 & !sym)) & ((1 << 31) - 1);
            }
        }

        /// `ec_dec_bit_logp`.
        fn bit(&mut self, logp: u32) -> bool {
            let s = self.rng >> logp;
            let one = self.val < s;
            if one {
                self.rng = s;
            } else {
                self.val -= s;
                self.rng -= s;
            }
            self.normalize();
            one
        }
    }

    #[test]
    fn committed_opus_fixture_carries_in_band_fec() {
        let f = MediaFixtures::load(&fixtures_dir()).expect("examples/fixtures loads");
        let mut lbrr = 0;
        for p in &f.audio.packets {
            let info = check::opus(p).expect("checked at load");
            assert!(info.config < 12 && info.frames == 1, "SILK-only, one frame per packet: {info:?}");
            let mut d = RangeDecoder::new(&p[1..]);
            let _vad = d.bit(1);
            lbrr += usize::from(d.bit(1));
        }
        // Every packet after the first few carries the previous frame again at low bitrate.
        assert!(lbrr * 2 > f.audio.packets.len(), "{lbrr} of {} packets carry LBRR", f.audio.packets.len());
    }

    #[test]
    fn committed_fixtures_load_and_match_their_description() {
        let f = MediaFixtures::load(&fixtures_dir()).expect("examples/fixtures loads");
        assert_eq!((f.video.width, f.video.height), (320, 240));
        assert_eq!(f.video.frame_interval.as_millis(), 66, "15 fps");
        let keyframes: Vec<usize> = f
            .video
            .frames
            .iter()
            .enumerate()
            .filter(|(_, fr)| check::vp8(fr).is_ok_and(|i| i.keyframe))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(keyframes.first(), Some(&0));
        assert!(
            keyframes.windows(2).all(|w| w[1] - w[0] <= 15),
            "a keyframe at least every second: {keyframes:?}"
        );
        let seconds = f.video.frames.len() as f64 * f.video.frame_interval.as_secs_f64();
        assert!((2.0..=3.5).contains(&seconds), "{seconds} s of video");
        assert_eq!(f.audio.channels, 1);
        assert_eq!(f.audio.packet_duration, Duration::from_millis(20));
        assert!((100..=175).contains(&f.audio.packets.len()), "{} packets", f.audio.packets.len());
        assert!(!f.levels.is_empty());
        // Not silence: the level file says so, and so do the packet sizes (DTX packets are 1–3 bytes).
        assert!(f.levels.iter().all(|&l| l < 60), "{:?}", f.levels);
        assert!(f.audio.packets.iter().all(|p| p.len() > 10));
    }
}
