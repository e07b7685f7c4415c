//! A participant whose connection drops stays for the resume grace period: the others see it
//! reconnecting (not leaving), its tracks and subscriptions stay, and on `Resume` it gets
//! `Resumed` then every reliable message it missed — once, in order. After the grace period it
//! leaves with reason timeout. Stale tokens, stale sessions and gaps the log cannot fill are
//! refused without changing anything.

mod common;

use std::time::Duration;

use common::{C, S, Sim, camera, nonce, pid, sent_to};
use dark_tower_core::error::ErrorCode;
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::ids::ParticipantId;
use dark_tower_core::proto::sig;
use dark_tower_signaling::meeting::ResumeRequest;
use dark_tower_signaling::meeting::resume::LOG_MAX_MESSAGES;
use dark_tower_signaling::{Effect, MeetingConfig};

const GRACE: Duration = Duration::from_secs(20);

/// Messages sent to `to` with their sequence numbers.
fn numbered(out: &[Effect], to: ParticipantId) -> Vec<(u64, S)> {
    out.iter()
        .filter_map(|e| match e {
            Effect::Send { to: t, message } if *t == to => Some((message.seq, message.message.clone()?)),
            _ => None,
        })
        .collect()
}

fn resume_request(who: u64, epoch: u64, last_seq: u64) -> ResumeRequest {
    ResumeRequest {
        participant: pid(who),
        nonce: nonce(pid(who)),
        epoch,
        resume: sig::Resume { protocol_version: dark_tower_core::PROTOCOL_VERSION, last_seq, client: None },
        media: common::endpoint(100 + who),
        request_id: 5,
    }
}

/// 1 and 2 joined (auto-subscribing), 1 publishes a camera. Returns the highest seq 2 received.
fn meeting() -> (Sim, u64) {
    let mut sim =
        Sim::with(Default::default(), MeetingConfig { resume_grace: GRACE, ..MeetingConfig::default() });
    let mut last = 0;
    sim.join(1, true);
    for (seq, _) in numbered(&sim.join(2, true), pid(2)) {
        last = last.max(seq);
    }
    let out = sim.send(pid(1), 9, C::PublishTrack(camera("cam", 2)));
    for (seq, _) in numbered(&out, pid(2)) {
        last = last.max(seq);
    }
    (sim, last)
}

fn data(text: &str) -> C {
    C::SendData(sig::SendData {
        topic: "chat".into(),
        payload: text.as_bytes().to_vec().into(),
        reliable: true,
        destination_participant_ids: vec![],
    })
}

#[test]
fn messages_are_numbered_from_one_starting_with_joined() {
    let mut sim = Sim::new();
    let out = sim.join(1, false);
    let got = numbered(&out, pid(1));
    assert!(matches!(got[0], (1, S::Joined(_))), "{got:?}");
    let out = sim.send(pid(1), 3, C::Ping(sig::Ping { client_time_us: 1 }));
    assert!(matches!(numbered(&out, pid(1))[..], [(2, S::Pong(_))]), "{out:?}");
}

#[test]
fn a_dropped_participant_is_reconnecting_not_gone() {
    let (mut sim, _) = meeting();
    let out = sim.drop_connection(pid(2), 2);
    let to1 = sent_to(&out, pid(1));
    assert!(
        to1.iter().any(|(_, m)| matches!(m, S::ParticipantUpdated(u)
            if u.participant.as_ref().is_some_and(|p| p.id == pid(2).to_string() && p.reconnecting))),
        "others see it reconnecting: {out:?}"
    );
    assert!(
        to1.iter().any(|(_, m)| matches!(m, S::ConnectionQuality(q)
            if q.updates.iter().any(|u| u.quality == sig::ConnectionQualityLevel::Lost as i32))),
        "its quality is lost: {out:?}"
    );
    assert!(!to1.iter().any(|(_, m)| matches!(m, S::ParticipantLeft(_))), "{out:?}");
    assert!(common::forwards(&out).is_empty(), "the media handler keeps its state: {out:?}");
    assert!(common::events(&out).is_empty(), "no departure recorded: {out:?}");
    assert_eq!(sim.meeting.participant_count(), 2);
    assert!(sim.meeting.is_reconnecting(pid(2)));
    // A joiner sees it, flagged.
    let j = common::joined(&sim.join(3, false), pid(3));
    assert!(j.others.iter().any(|p| p.id == pid(2).to_string() && p.reconnecting));
}

#[test]
fn resume_resends_what_was_missed_once_in_order() {
    let (mut sim, last) = meeting();
    sim.drop_connection(pid(2), 2);
    let mut sent_while_away = Vec::new();
    for text in ["one", "two", "three"] {
        let out = sim.send(pid(1), 0, data(text));
        assert!(sent_to(&out, pid(2)).is_empty(), "nothing is sent to a session that is gone: {out:?}");
        sent_while_away.push(text);
    }
    sim.send(pid(1), 0, C::SetTrackMuted(sig::SetTrackMuted { track_id: String::new(), muted: true }));

    sim.advance(Duration::from_secs(5));
    let now = sim.now;
    sim.meeting.resume(now, resume_request(2, 22, last)).expect("resume within the grace period");
    let out = sim.drain();
    let got = numbered(&out, pid(2));
    let (seq0, S::Resumed(r)) = &got[0] else { panic!("Resumed first: {got:?}") };
    assert_eq!(*seq0, 0, "Resumed is outside the numbered sequence");
    assert_eq!(r.media.as_ref().map(|m| m.ticket.as_str()), Some("ticket-102"));
    assert_eq!(r.replayed as usize, got.len() - 1);
    let replayed: Vec<_> = got[1..].iter().map(|(s, _)| *s).collect();
    let want: Vec<_> = (last + 1..=last + replayed.len() as u64).collect();
    assert_eq!(replayed, want, "consecutive, starting after last_seq");
    let texts: Vec<_> = got[1..]
        .iter()
        .filter_map(|(_, m)| match m {
            S::DataReceived(d) => Some(String::from_utf8_lossy(&d.payload).into_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, sent_while_away, "each data message once, in order");
    assert!(
        sent_to(&out, pid(1)).iter().any(|(_, m)| matches!(m, S::ParticipantUpdated(u)
            if u.participant.as_ref().is_some_and(|p| !p.reconnecting))),
        "the others see it back: {out:?}"
    );
    assert!(!sim.meeting.is_reconnecting(pid(2)));
    // Later messages continue the sequence on the new session.
    let out = sim.send(pid(2), 8, C::Ping(sig::Ping { client_time_us: 1 }));
    assert_eq!(numbered(&out, pid(2))[0].0, last + replayed.len() as u64 + 1);
}

#[test]
fn resuming_keeps_tracks_and_subscriptions() {
    let (mut sim, last) = meeting();
    let out = sim.drop_connection(pid(1), 1);
    assert!(common::forwards(&out).is_empty());
    let now = sim.now;
    sim.meeting.resume(now, resume_request(1, 11, last)).expect("resume");
    let out = sim.drain();
    assert!(common::forwards(&out).is_empty(), "nothing to re-create in the media handler: {out:?}");
    let (_, S::Resumed(r)) = &numbered(&out, pid(1))[0] else { panic!("{out:?}") };
    assert_eq!(r.participant.as_ref().map(|p| p.tracks.len()), Some(1), "still publishing its camera");
}

#[test]
fn after_the_grace_period_it_leaves_with_reason_timeout() {
    let (mut sim, last) = meeting();
    let dropped_at = sim.now;
    sim.drop_connection(pid(1), 1);
    assert_eq!(sim.meeting.poll_timeout(), Some(dropped_at + GRACE));
    sim.now = dropped_at + GRACE - Duration::from_millis(1);
    sim.meeting.handle_timeout(sim.now);
    assert!(sim.drain().is_empty(), "not yet");
    sim.now = dropped_at + GRACE;
    sim.meeting.handle_timeout(sim.now);
    let out = sim.drain();
    let left = sent_to(&out, pid(2));
    assert!(
        left.iter().any(|(_, m)| matches!(m, S::ParticipantLeft(l)
            if l.participant_id == pid(1).to_string() && l.reason == sig::LeaveReason::Timeout as i32)),
        "{out:?}"
    );
    assert!(common::forwards(&out).contains(&ForwardingCommand::ParticipantLeft {
        meeting: common::meeting_name(),
        participant: pid(1),
    }));
    assert_eq!(sim.meeting.participant_count(), 1);
    let err = sim.meeting.resume(sim.now, resume_request(1, 11, last)).expect_err("too late");
    assert_eq!(err.code, ErrorCode::ResumeFailed);
}

#[test]
fn a_stale_token_or_impossible_position_changes_nothing() {
    let (mut sim, last) = meeting();
    sim.drop_connection(pid(2), 2);
    let now = sim.now;
    let mut wrong = resume_request(2, 22, last);
    wrong.nonce += 1;
    assert_eq!(sim.meeting.resume(now, wrong).expect_err("stale").code, ErrorCode::ResumeFailed);
    let ahead = resume_request(2, 22, last + 100);
    assert_eq!(sim.meeting.resume(now, ahead).expect_err("never sent").code, ErrorCode::ResumeFailed);
    let mut old = resume_request(2, 22, last);
    old.resume.protocol_version = 99;
    assert_eq!(sim.meeting.resume(now, old).expect_err("version").code, ErrorCode::UnsupportedVersion);
    assert!(sim.drain().is_empty());
    assert!(sim.meeting.is_reconnecting(pid(2)), "still waiting");
}

#[test]
fn a_client_further_behind_than_the_log_must_join_again() {
    let (mut sim, _) = meeting();
    sim.drop_connection(pid(2), 2);
    for i in 0..=LOG_MAX_MESSAGES {
        // Within participant 1's signaling rate limit.
        sim.advance(Duration::from_millis(10));
        let out = sim.send(pid(1), 1, data(&format!("{i}")));
        assert!(matches!(sent_to(&out, pid(1))[..], [(1, S::Ack(_))]), "{out:?}");
    }
    let now = sim.now;
    let err = sim.meeting.resume(now, resume_request(2, 22, 1)).expect_err("gap");
    assert_eq!(err.code, ErrorCode::ResumeFailed);
}

#[test]
fn a_resume_before_the_drop_was_noticed_replaces_the_session() {
    let (mut sim, last) = meeting();
    // The server still thinks session 2 is up; the client already came back on session 22.
    let now = sim.now;
    sim.meeting.resume(now, resume_request(2, 22, last)).expect("resume replaces the session");
    let out = sim.drain();
    assert!(matches!(numbered(&out, pid(2))[..], [(0, S::Resumed(_))]), "nothing missed: {out:?}");
    assert!(sent_to(&out, pid(1)).is_empty(), "the others never saw it go: {out:?}");
    // The old session's end, noticed late, is not a departure.
    let out = sim.drop_connection(pid(2), 2);
    assert!(out.is_empty(), "{out:?}");
    assert!(!sim.meeting.is_reconnecting(pid(2)));
    // The new session's end is.
    let out = sim.drop_connection(pid(2), 22);
    assert!(!out.is_empty());
    assert!(sim.meeting.is_reconnecting(pid(2)));
}

#[test]
fn leave_and_protocol_errors_are_immediate_even_with_a_grace_period() {
    let (mut sim, _) = meeting();
    let out = sim.leave(pid(2));
    assert!(sent_to(&out, pid(1)).iter().any(|(_, m)| matches!(m, S::ParticipantLeft(_))));
    let out = sim.handle(dark_tower_signaling::Command::Disconnected {
        participant: pid(1),
        epoch: 1,
        reason: sig::LeaveReason::ProtocolError,
    });
    assert!(common::forwards(&out).iter().any(|c| matches!(c, ForwardingCommand::ParticipantLeft { .. })));
    assert_eq!(sim.meeting.participant_count(), 0);
}
