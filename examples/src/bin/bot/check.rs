//! Structural checks of received media, without decoding it: the VP8 frame header (RFC 6386
//! §9.1) and the Opus packet framing (RFC 6716 §3). They catch a payload that was cut, shifted,
//! still encrypted, or mislabelled, which is what a forwarding bug or an E2EE mismatch produces.

/// Why a payload is not a well-formed frame of its codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckError {
    /// Shorter than the codec's fixed header.
    TooShort(usize),
    /// VP8: version field above 3.
    Vp8Version(u8),
    /// VP8: a keyframe without the start code `9d 01 2a`.
    Vp8StartCode([u8; 3]),
    /// VP8: a keyframe with an implausible picture size.
    Vp8Size(u16, u16),
    /// VP8: the first partition is empty or longer than the frame.
    Vp8Partition(u32),
    /// The media header's keyframe flag disagrees with the VP8 frame tag.
    KeyframeFlag {
        /// The media header says keyframe.
        header: bool,
        /// The VP8 frame tag says keyframe.
        payload: bool,
    },
    /// Opus: an empty packet (RFC 6716 R1).
    OpusEmpty,
    /// Opus: the frame lengths do not add up to the packet length (R2–R7).
    OpusLength(&'static str),
    /// Opus: a code 3 packet with no frames, or longer than 120 ms (R5).
    OpusFrameCount(u8),
    /// The payload of a synthetic track failed its checksum or framing.
    Synthetic(String),
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooShort(n) => write!(f, "payload too short ({n} bytes)"),
            Self::Vp8Version(v) => write!(f, "VP8 version {v} (0–3 allowed)"),
            Self::Vp8StartCode(c) => write!(f, "VP8 keyframe without start code: {c:02x?}"),
            Self::Vp8Size(w, h) => write!(f, "VP8 keyframe of implausible size {w}x{h}"),
            Self::Vp8Partition(n) => write!(f, "VP8 first partition of {n} bytes does not fit"),
            Self::KeyframeFlag { header, payload } => {
                write!(f, "media header keyframe={header} but VP8 frame tag keyframe={payload}")
            }
            Self::OpusEmpty => write!(f, "empty Opus packet"),
            Self::OpusLength(why) => write!(f, "Opus packet length: {why}"),
            Self::OpusFrameCount(m) => write!(f, "Opus packet with {m} frames"),
            Self::Synthetic(e) => write!(f, "synthetic payload: {e}"),
        }
    }
}

/// What the VP8 frame tag says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vp8Info {
    /// Bit 0 of the first byte is 0.
    pub keyframe: bool,
    /// The picture is shown (hidden frames are alt-ref updates).
    pub show_frame: bool,
    /// Keyframes: width and height (scaling bits dropped).
    pub size: Option<(u16, u16)>,
}

/// The largest width or height taken as plausible (the format allows 16383).
const MAX_VP8_DIMENSION: u16 = 8192;

/// Checks a VP8 frame: the 3-byte frame tag (keyframe bit, version ≤ 3, a first partition that
/// fits), and for a keyframe the start code `9d 01 2a` and a plausible width and height.
pub fn vp8(p: &[u8]) -> Result<Vp8Info, CheckError> {
    if p.len() < 3 {
        return Err(CheckError::TooShort(p.len()));
    }
    let tag = u32::from(p[0]) | u32::from(p[1]) << 8 | u32::from(p[2]) << 16;
    let keyframe = tag & 1 == 0;
    let version = ((tag >> 1) & 7) as u8;
    let show_frame = tag & 0x10 != 0;
    let partition = tag >> 5;
    if version > 3 {
        return Err(CheckError::Vp8Version(version));
    }
    let header_len = if keyframe { 10 } else { 3 };
    if p.len() < header_len {
        return Err(CheckError::TooShort(p.len()));
    }
    if partition == 0 || partition as usize > p.len() - header_len {
        return Err(CheckError::Vp8Partition(partition));
    }
    let size = if keyframe {
        let code = [p[3], p[4], p[5]];
        if code != [0x9d, 0x01, 0x2a] {
            return Err(CheckError::Vp8StartCode(code));
        }
        // 14 bits of size, 2 bits of scaling.
        let w = u16::from_le_bytes([p[6], p[7]]) & 0x3fff;
        let h = u16::from_le_bytes([p[8], p[9]]) & 0x3fff;
        if w == 0 || h == 0 || w > MAX_VP8_DIMENSION || h > MAX_VP8_DIMENSION {
            return Err(CheckError::Vp8Size(w, h));
        }
        Some((w, h))
    } else {
        None
    };
    Ok(Vp8Info { keyframe, show_frame, size })
}

/// What the Opus TOC byte and framing say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusInfo {
    /// The configuration number (mode, bandwidth, frame size), 0–31.
    pub config: u8,
    /// Stereo flag.
    pub stereo: bool,
    /// Frames in the packet.
    pub frames: u8,
    /// Duration of the whole packet, microseconds.
    pub duration_us: u32,
}

/// Frame duration of a TOC configuration, microseconds (RFC 6716 Table 2).
fn frame_duration_us(config: u8) -> u32 {
    match config {
        0..=11 => [10_000, 20_000, 40_000, 60_000][usize::from(config % 4)],
        12..=15 => [10_000, 20_000][usize::from(config % 2)],
        _ => [2_500, 5_000, 10_000, 20_000][usize::from(config % 4)],
    }
}

/// Largest Opus frame (RFC 6716 §3.2.1).
const MAX_OPUS_FRAME: usize = 1275;

/// Reads a frame length (1 or 2 bytes, §3.2.1) from the front of `p`: (length, bytes used).
fn frame_len(p: &[u8]) -> Result<(usize, usize), CheckError> {
    match p {
        [] => Err(CheckError::OpusLength("frame length missing")),
        [b0, ..] if *b0 < 252 => Ok((usize::from(*b0), 1)),
        [b0, b1, ..] => Ok((usize::from(*b1) * 4 + usize::from(*b0), 2)),
        [_] => Err(CheckError::OpusLength("two-byte frame length cut short")),
    }
}

/// Checks an Opus packet: the TOC byte and the frame lengths of its frame count code (RFC 6716
/// §3.2, requirements R1–R7).
pub fn opus(p: &[u8]) -> Result<OpusInfo, CheckError> {
    let (&toc, rest) = p.split_first().ok_or(CheckError::OpusEmpty)?;
    let config = toc >> 3;
    let stereo = toc & 0x04 != 0;
    let duration = frame_duration_us(config);
    let frames = match toc & 3 {
        0 => {
            if rest.len() > MAX_OPUS_FRAME {
                return Err(CheckError::OpusLength("frame above 1275 bytes"));
            }
            1
        }
        1 => {
            if rest.len() % 2 != 0 || rest.len() / 2 > MAX_OPUS_FRAME {
                return Err(CheckError::OpusLength("two equal frames of odd total length"));
            }
            2
        }
        2 => {
            let (n1, used) = frame_len(rest)?;
            let remaining = rest.len() - used;
            if n1 > remaining || remaining - n1 > MAX_OPUS_FRAME {
                return Err(CheckError::OpusLength("first of two frames longer than the packet"));
            }
            2
        }
        _ => {
            let (&count, mut rest) =
                rest.split_first().ok_or(CheckError::OpusLength("frame count byte missing"))?;
            let vbr = count & 0x80 != 0;
            let padded = count & 0x40 != 0;
            let m = count & 0x3f;
            if m == 0 || u32::from(m) * duration > 120_000 {
                return Err(CheckError::OpusFrameCount(m));
            }
            let mut padding = 0usize;
            if padded {
                loop {
                    let (&b, r) = rest.split_first().ok_or(CheckError::OpusLength("padding cut short"))?;
                    rest = r;
                    padding += if b == 255 { 254 } else { usize::from(b) };
                    if b != 255 {
                        break;
                    }
                }
            }
            if vbr {
                let mut total = 0usize;
                for _ in 1..m {
                    let (n, used) = frame_len(rest)?;
                    rest = &rest[used..];
                    if n > MAX_OPUS_FRAME {
                        return Err(CheckError::OpusLength("frame above 1275 bytes"));
                    }
                    total += n;
                }
                let last = rest
                    .len()
                    .checked_sub(padding + total)
                    .ok_or(CheckError::OpusLength("frames and padding longer than the packet"))?;
                if last > MAX_OPUS_FRAME {
                    return Err(CheckError::OpusLength("frame above 1275 bytes"));
                }
            } else {
                let data = rest
                    .len()
                    .checked_sub(padding)
                    .ok_or(CheckError::OpusLength("padding longer than the packet"))?;
                if data % usize::from(m) != 0 || data / usize::from(m) > MAX_OPUS_FRAME {
                    return Err(CheckError::OpusLength("constant-size frames do not divide the packet"));
                }
            }
            m
        }
    };
    Ok(OpusInfo { config, stereo, frames, duration_us: duration * u32::from(frames) })
}

/// The kind of media a received frame was verified as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// A VP8 frame, or a frame of a synthetic video track.
    Video,
    /// An Opus packet, or a frame of a synthetic audio track.
    Audio,
    /// A codec the bot has no check for: neither counted nor failed.
    Unchecked,
}

/// Checks a received payload by its track's codec and kind. `header_keyframe` is the media
/// header's keyframe flag, which must agree with a VP8 frame tag. A synthetic payload also
/// yields its sequence number (for loss counting).
pub fn received(
    codec: &str,
    video: bool,
    header_keyframe: bool,
    payload: &[u8],
) -> Result<(Verified, Option<u64>), CheckError> {
    let kind = if video { Verified::Video } else { Verified::Audio };
    match codec.to_ascii_lowercase().as_str() {
        "vp8" => {
            let info = vp8(payload)?;
            if info.keyframe != header_keyframe {
                return Err(CheckError::KeyframeFlag { header: header_keyframe, payload: info.keyframe });
            }
            Ok((Verified::Video, None))
        }
        "opus" => opus(payload).map(|_| (Verified::Audio, None)),
        "synthetic" => dark_tower_client::synthetic::verify(payload)
            .map(|v| (kind, Some(v.seq)))
            .map_err(|e| CheckError::Synthetic(e.to_string())),
        _ => Ok((Verified::Unchecked, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(w: u16, h: u16, body: usize) -> Vec<u8> {
        let tag = ((body as u32) << 5) | 0x10;
        let mut f = tag.to_le_bytes()[..3].to_vec();
        f.extend_from_slice(&[0x9d, 0x01, 0x2a]);
        f.extend_from_slice(&w.to_le_bytes());
        f.extend_from_slice(&h.to_le_bytes());
        f.extend(std::iter::repeat_n(0xa5, body));
        f
    }

    fn delta(body: usize) -> Vec<u8> {
        let tag = ((body as u32) << 5) | 0x11;
        let mut f = tag.to_le_bytes()[..3].to_vec();
        f.extend(std::iter::repeat_n(0x5a, body));
        f
    }

    #[test]
    fn vp8_keyframe_and_delta_frames_are_recognised() {
        let k = vp8(&key(320, 240, 40)).expect("keyframe");
        assert_eq!(k, Vp8Info { keyframe: true, show_frame: true, size: Some((320, 240)) });
        // Scaling bits in the top two bits of the size fields are ignored.
        let mut scaled = key(640, 480, 40);
        scaled[7] |= 0xc0;
        assert_eq!(vp8(&scaled).expect("scaled").size, Some((640, 480)));
        let d = vp8(&delta(12)).expect("delta");
        assert!(!d.keyframe && d.size.is_none());
    }

    #[test]
    fn vp8_frames_with_bad_headers_are_refused() {
        let mut no_code = key(320, 240, 40);
        no_code[4] = 0x02;
        assert!(matches!(vp8(&no_code), Err(CheckError::Vp8StartCode(_))));
        assert_eq!(vp8(&key(0, 240, 40)), Err(CheckError::Vp8Size(0, 240)));
        assert_eq!(vp8(&key(9000, 240, 40)), Err(CheckError::Vp8Size(9000, 240)));
        let mut version = delta(12);
        version[0] |= 0x0e; // version 7
        assert_eq!(vp8(&version), Err(CheckError::Vp8Version(7)));
        // A first partition longer than the frame: a cut frame.
        let cut = key(320, 240, 40);
        assert_eq!(vp8(&cut[..30]), Err(CheckError::Vp8Partition(40)));
        assert_eq!(vp8(&[0x10, 0]), Err(CheckError::TooShort(2)));
        // Random bytes (an undecrypted SFrame ciphertext, say) rarely pass; this one does not.
        assert!(vp8(&[0x90, 0x1f, 0x33, 0x10, 0x00]).is_err());
    }

    #[test]
    fn the_media_header_keyframe_flag_must_match_the_vp8_frame_tag() {
        assert_eq!(received("vp8", true, true, &key(320, 240, 8)), Ok((Verified::Video, None)));
        assert_eq!(
            received("VP8", true, true, &delta(8)),
            Err(CheckError::KeyframeFlag { header: true, payload: false })
        );
        assert_eq!(
            received("vp8", true, false, &key(320, 240, 8)),
            Err(CheckError::KeyframeFlag { header: false, payload: true })
        );
    }

    #[test]
    fn opus_packets_of_every_frame_count_code_are_checked() {
        // Code 0: SILK WB 20 ms, one frame.
        assert_eq!(
            opus(&[0x48, 1, 2, 3]),
            Ok(OpusInfo { config: 9, stereo: false, frames: 1, duration_us: 20_000 })
        );
        // A 1-byte packet is a valid empty (DTX) frame.
        assert_eq!(opus(&[0x48]).map(|i| i.frames), Ok(1));
        // Code 1: two equal frames (CELT FB 10 ms, stereo).
        let c1 = [0xf4 | 1, 1, 2, 3, 4];
        assert_eq!(opus(&c1), Ok(OpusInfo { config: 30, stereo: true, frames: 2, duration_us: 20_000 }));
        assert!(opus(&c1[..4]).is_err(), "odd length");
        // Code 2: first frame 2 bytes, second 1.
        assert_eq!(opus(&[0x4a, 2, 9, 9, 9]).map(|i| i.frames), Ok(2));
        assert!(opus(&[0x4a, 5, 9]).is_err());
        // Two-byte frame length: 252 + 4 * 1 = 256 bytes.
        let mut long = vec![0x4a, 252, 1];
        long.extend(std::iter::repeat_n(0u8, 256 + 3));
        assert_eq!(opus(&long).map(|i| i.frames), Ok(2));
        // Code 3 CBR: three 20 ms frames of 2 bytes.
        assert_eq!(opus(&[0x4b, 3, 1, 1, 2, 2, 3, 3]).map(|i| i.duration_us), Ok(60_000));
        assert!(opus(&[0x4b, 3, 1, 1, 2, 2, 3]).is_err(), "does not divide");
        // Code 3 VBR with padding: 2 frames, first 1 byte, padding 2 bytes.
        assert_eq!(opus(&[0x4b, 0xc2, 2, 1, 7, 8, 8, 0, 0]).map(|i| i.frames), Ok(2));
        // Code 3 with no frames, or above 120 ms (7 × 20 ms).
        assert_eq!(opus(&[0x4b, 0]), Err(CheckError::OpusFrameCount(0)));
        assert_eq!(opus(&[0x4b, 7, 0, 0, 0, 0, 0, 0, 0]), Err(CheckError::OpusFrameCount(7)));
        assert_eq!(opus(&[]), Err(CheckError::OpusEmpty));
        // A single frame above 1275 bytes.
        let mut big = vec![0x48];
        big.extend(std::iter::repeat_n(0u8, 1276));
        assert!(opus(&big).is_err());
    }

    #[test]
    fn unknown_codecs_are_not_checked_and_synthetic_ones_are() {
        assert_eq!(received("av1", true, true, b"anything"), Ok((Verified::Unchecked, None)));
        let p = dark_tower_client::synthetic::payload(1, 42, 0, 100);
        assert_eq!(received("synthetic", false, false, &p), Ok((Verified::Audio, Some(42))));
        assert!(matches!(received("synthetic", true, false, b"garbage"), Err(CheckError::Synthetic(_))));
    }
}
