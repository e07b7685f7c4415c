//! The video codecs a client says it can decode (its Join's ClientInfo) are part of its roster
//! entry, so publishers can pick a codec every participant decodes; the list is bounded.

mod common;

use common::{S, Sim, endpoint, join_message, joined, nonce, pid, sent_to, token};
use dark_tower_signaling::{Command, JoinRequest};

fn join_with(sim: &mut Sim, n: u64, decoders: Vec<String>) -> Vec<dark_tower_signaling::Effect> {
    let mut join = join_message(true);
    if let Some(c) = join.client.as_mut() {
        c.video_decoders = decoders;
    }
    sim.handle(Command::Join(Box::new(JoinRequest {
        participant: pid(n),
        token: token(&format!("user{n}")),
        join,
        media: endpoint(n),
        request_id: common::JOIN_REQUEST_ID,
        epoch: n,
        resume_nonce: nonce(pid(n)),
        resume_token: format!("resume-{n}"),
    })))
}

#[test]
fn the_roster_carries_each_participants_decoders() {
    let mut sim = Sim::new();
    join_with(&mut sim, 1, vec!["vp8".into(), "vp9".into(), "av1".into()]);
    // An oversized list: names too long are dropped, at most 8 kept.
    let mut long: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
    long.insert(0, "x".repeat(64));
    let out = join_with(&mut sim, 2, long);
    let roster = joined(&out, pid(2)).others;
    let first = roster.iter().find(|p| p.id == pid(1).to_string()).expect("participant 1");
    assert_eq!(first.video_decoders, ["vp8", "vp9", "av1"]);
    // Participant 1 hears of participant 2 with its bounded list.
    let told = sent_to(&out, pid(1))
        .into_iter()
        .find_map(|(_, m)| match m {
            S::ParticipantJoined(j) => j.participant,
            _ => None,
        })
        .expect("ParticipantJoined");
    let expected: Vec<String> = (0..8).map(|i| format!("c{i}")).collect();
    assert_eq!(told.video_decoders, expected);
    // A client that says nothing: empty (taken as VP8 only by publishers).
    let out = join_with(&mut sim, 3, Vec::new());
    let me = joined(&out, pid(3)).participant.expect("own entry");
    assert!(me.video_decoders.is_empty());
}
