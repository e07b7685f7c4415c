//! Publishing tells the media handler first (the track, then the auto-subscriptions), and only
//! then acknowledges the publisher and tells the others, so whoever acts on a message finds the
//! forwarding already in place. Every track gets its own alias.

mod common;

use std::collections::HashSet;

use common::{C, S, Sim, camera, grant, mic, pid, token_with};
use dark_tower_core::forwarding::ForwardingCommand;
use dark_tower_core::ids::{TrackAlias, TrackId};
use dark_tower_core::proto::sig;
use dark_tower_core::token::Grant;
use dark_tower_core::track::{TrackKind, TrackSource};
use dark_tower_signaling::{Effect, MeetingEvent};

/// 1, 2 and 5 auto-subscribe; 3 does not; 4 auto-subscribes but may not subscribe.
fn meeting() -> Sim {
    let mut sim = Sim::new();
    sim.join(1, true);
    sim.join(2, true);
    sim.join(3, false);
    let no_subscribe = Grant { can_subscribe: false, ..grant() };
    sim.join_as(pid(4), token_with("user4", no_subscribe), true);
    sim.join(5, true);
    sim
}

fn subscribe(who: u64, alias: TrackAlias) -> Effect {
    Effect::Forward(ForwardingCommand::Subscribe {
        meeting: common::meeting_name(),
        subscriber: pid(who),
        alias,
        max_spatial: None,
    })
}

#[test]
fn publish_effects_come_in_order_forward_subscribe_ack_broadcast() {
    let mut sim = meeting();
    let mut request = camera("cam-1", 3);
    request.layers.reverse();
    let out = sim.send(pid(2), 7, C::PublishTrack(request));

    let events = common::events(&out);
    let rest: Vec<Effect> = out.into_iter().filter(|e| !matches!(e, Effect::Event(_))).collect();
    assert_eq!(rest.len(), 1 + 2 + 1 + 4, "{rest:#?}");

    // 1. The track, for the media handler.
    let Effect::Forward(ForwardingCommand::TrackPublished { meeting, publisher, track, alias, kind, layers }) =
        rest[0].clone()
    else {
        panic!("expected Forward(TrackPublished) first, got {:?}", rest[0]);
    };
    assert_eq!(meeting, common::meeting_name());
    assert_eq!(publisher, pid(2));
    assert_eq!(kind, TrackKind::Video);
    assert_eq!(layers, 3);
    assert_ne!(alias.0, 0, "alias 0 is never used");
    assert_eq!(events, vec![MeetingEvent::TrackPublished { participant: pid(2), track }]);

    // 2. Auto-subscriptions: not the publisher, not 3 (no auto-subscribe), not 4 (no permission).
    assert_eq!(rest[1..3], [subscribe(1, alias), subscribe(5, alias)]);

    // 3. The acknowledgement, echoing the request id.
    let Effect::Send { to, message } = &rest[3] else {
        panic!("expected the ack, got {:?}", rest[3]);
    };
    assert_eq!(*to, pid(2));
    assert_eq!(message.request_id, 7);
    let Some(S::PublishTrackAck(ack)) = &message.message else {
        panic!("expected PublishTrackAck, got {message:?}");
    };
    assert_eq!(ack.client_track_id, "cam-1");
    let t = ack.track.clone().expect("ack carries the track");
    assert_eq!(t.id, track.to_string());
    assert_eq!(t.id.parse::<TrackId>(), Ok(track));
    assert_eq!(t.alias, alias.0);
    assert_eq!(t.kind, sig::TrackKind::Video as i32);
    assert_eq!(t.source, sig::TrackSource::Camera as i32);
    assert_eq!(t.codec, "vp8");
    assert_eq!(t.layers, common::layers(3), "layers sorted by spatial id");
    assert_eq!(t.name, "cam-1");
    assert!(!t.muted);

    // 4. Everyone else is told, unsolicited.
    let mut told = Vec::new();
    for e in &rest[4..] {
        let Effect::Send { to, message } = e else {
            panic!("expected a broadcast, got {e:?}");
        };
        assert_eq!(message.request_id, 0);
        let Some(S::TrackPublished(tp)) = &message.message else {
            panic!("expected TrackPublished, got {message:?}");
        };
        assert_eq!(tp.participant_id, pid(2).to_string());
        assert_eq!(tp.track.as_ref(), Some(&t));
        told.push(*to);
    }
    told.sort();
    assert_eq!(told, vec![pid(1), pid(3), pid(4), pid(5)]);
}

#[test]
fn auto_subscribing_joiner_is_forwarded_before_it_reads_joined() {
    let mut sim = meeting();
    let cam = sim.publish_ok(pid(2), camera("cam", 2));
    let audio = sim.publish_ok(pid(3), mic("mic"));
    let out = sim.join(6, true);
    let joined_at =
        out.iter().position(|e| matches!(e, Effect::Send { to, .. } if *to == pid(6))).expect("Joined sent");
    let before: Vec<_> = common::forwards(&out[..joined_at]);
    let mut aliases: Vec<_> = before
        .iter()
        .map(|c| match c {
            ForwardingCommand::Subscribe { subscriber, alias, .. } => {
                assert_eq!(*subscriber, pid(6));
                alias.0
            }
            other => panic!("unexpected forward {other:?}"),
        })
        .collect();
    aliases.sort_unstable();
    let mut want = vec![cam.alias, audio.alias];
    want.sort_unstable();
    assert_eq!(aliases, want);
    assert!(common::forwards(&out[joined_at..]).is_empty());
}

#[test]
fn every_track_gets_a_distinct_alias() {
    let mut sim = meeting();
    let mut aliases = HashSet::new();
    let mut published = Vec::new();
    for (n, who) in [1, 2, 3, 1, 2, 5].into_iter().enumerate() {
        let source = if n % 2 == 0 { TrackSource::Camera } else { TrackSource::Microphone };
        let p = common::publish(&format!("t{n}"), source, u32::from(source == TrackSource::Camera));
        let t = sim.publish_ok(pid(who), p);
        assert_ne!(t.alias, 0);
        assert!(aliases.insert(t.alias), "alias {} reused", t.alias);
        published.push((who, t));
    }
    // Unpublishing frees nothing for reuse: late frames of the old track must not be taken for
    // frames of a new one.
    let (who, gone) = published.remove(0);
    let out = sim.send(pid(who), 0, C::UnpublishTrack(sig::UnpublishTrack { track_id: gone.id.clone() }));
    assert!(common::forwards(&out).contains(&ForwardingCommand::TrackUnpublished {
        meeting: common::meeting_name(),
        alias: TrackAlias(gone.alias),
    }));
    let t = sim.publish_ok(pid(who), camera("again", 1));
    assert!(aliases.insert(t.alias), "alias {} reused after unpublish", t.alias);
    let ids: HashSet<_> = published.iter().map(|(_, t)| t.id.clone()).collect();
    assert!(!ids.contains(&t.id));
}
