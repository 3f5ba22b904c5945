use super::icons;
use super::initials;
use super::stats::StatsPanel;
use super::video::{LocalVideo, RemoteVideo};
use crate::call::{use_call, PeerLink};
use crate::protocol::{MediaState, PeerId};
use crate::session::use_session;
use leptos::prelude::*;

/// The call: one tile per person in the room, ourselves first.
#[component]
pub fn Stage() -> impl IntoView {
    let session = use_session();
    let me = Memo::new(move |_| session.model.with(|m| m.me.clone()));
    let ids = Memo::new(move |_| {
        session
            .model
            .with(|m| m.room.as_ref().map(|r| r.members.iter().map(|x| x.id.clone()).collect::<Vec<_>>()))
    });
    // Ourselves first, then everyone else in join order.
    let ordered = move || {
        let me = me.get();
        let mut ids = ids.get().unwrap_or_default();
        ids.sort_by_key(|id| Some(id) != me.as_ref());
        ids
    };
    let call = use_call();
    let sharer = Memo::new(move |_| session.model.with(|m| m.room.as_ref().and_then(|r| r.sharer.clone())));
    // Speaker view, or anyone presenting: one large tile and a strip.
    let focus = Memo::new(move |_| sharer.with(Option::is_some) || call.state.with(|s| s.speaker_view));
    view! {
        <section class="stage" class:focus=move || focus.get() aria-label="Call"
            data-count=move || ids.with(|v| v.as_ref().map_or(0, Vec::len))>
            <For each=ordered key=|id| id.clone() let:id>
                <Tile is_me=me.get_untracked().as_ref() == Some(&id) id=id/>
            </For>
        </section>
    }
}

#[component]
fn Tile(id: PeerId, is_me: bool) -> impl IntoView {
    let session = use_session();
    let call = use_call();
    let member_id = id.clone();
    let member = Memo::new(move |_| {
        session
            .model
            .with(|m| m.room.as_ref().and_then(|r| r.members.iter().find(|x| x.id == member_id).cloned()))
    });
    // Our own state shows at once, without waiting for the server's echo.
    let media = Memo::new(move |_| {
        if is_me {
            call.state.with(|s| s.media())
        } else {
            member.with(|m| m.as_ref().map_or(MediaState::default(), |m| m.media))
        }
    });
    let link_id = id.clone();
    let link =
        Memo::new(move |_| if is_me { None } else { call.state.with(|s| s.peer(&link_id).map(|p| p.link)) });
    let nickname = move || member.with(|m| m.as_ref().map(|m| m.nickname.clone()).unwrap_or_default());
    // No connection to a remote member yet, or none while the signaling
    // socket is down (a server restart): say so rather than show black.
    let signaling_up = Memo::new(move |_| session.model.with(|m| m.is_open()));
    let link_label = move || match link.get() {
        Some(PeerLink::Connecting) => Some("Connecting…"),
        Some(PeerLink::Reconnecting) => Some("Reconnecting…"),
        None if !is_me && signaling_up.get() => Some("Connecting…"),
        None if !is_me => Some("Reconnecting…"),
        _ => None,
    };
    let speaking_id = id.clone();
    let speaking = Memo::new(move |_| call.state.with(|s| s.active_speaker.as_ref() == Some(&speaking_id)));
    let presenter_id = id.clone();
    let presenting = Memo::new(move |_| {
        session.model.with(|m| m.room.as_ref().and_then(|r| r.sharer.as_ref()) == Some(&presenter_id))
    });
    // The large tile: whoever presents, else the active speaker (speaker view).
    let featured_id = id.clone();
    let featured = Memo::new(move |_| {
        let sharer = session.model.with(|m| m.room.as_ref().and_then(|r| r.sharer.clone()));
        match sharer {
            Some(s) => s == featured_id,
            None => call.state.with(|s| s.speaker_view && s.active_speaker.as_ref() == Some(&featured_id)),
        }
    });
    let quality_id = id.clone();
    let quality = Memo::new(move |_| call.state.with(|s| s.peer(&quality_id).and_then(|p| p.quality)));
    let show_stats = RwSignal::new(false);
    let stats_id = id.clone();
    let link_state = move || match link.get() {
        None if is_me => "self",
        None => "connecting",
        Some(PeerLink::Connecting) => "connecting",
        Some(PeerLink::Connected) => "connected",
        Some(PeerLink::Reconnecting) => "reconnecting",
    };
    view! {
        <div
            class="tile" class:me=is_me class:speaking=move || speaking.get() class:presenting=move || presenting.get()
            class:featured=move || featured.get()
            data-testid="tile" data-peer=id.0.clone()
            data-link=link_state
            data-speaking=move || speaking.get().to_string()
            data-presenting=move || presenting.get().to_string()
            data-audio=move || media.get().audio.to_string()
            data-video=move || media.get().video.to_string()
        >
            {if is_me { view! { <LocalVideo/> }.into_any() } else { view! { <RemoteVideo peer=id.clone()/> }.into_any() }}
            <Show when=move || !media.get().video && !presenting.get()>
                <div class="tile-off" data-testid="camera-off">
                    <div class="avatar" aria-hidden="true">{move || initials(&nickname())}</div>
                </div>
            </Show>
            <div class="tile-name">
                <Show when=move || !media.get().audio>
                    <span class="muted-badge" aria-label="microphone off" title="Microphone off">{icons::mic_off()}</span>
                </Show>
                <span>{nickname}{is_me.then_some(" (you)")}</span>
                <Show when=move || presenting.get()>
                    <span class="presenting-badge">"presenting"</span>
                </Show>
            </div>
            {move || quality.get().map(|q| view! {
                <button
                    class="quality" data-quality=q.as_str()
                    title=format!("Connection: {} (click for statistics)", q.as_str())
                    aria-label=format!("Connection {}: show call statistics", q.as_str())
                    aria-expanded=move || show_stats.get().to_string()
                    on:click=move |_| show_stats.update(|v| *v = !*v)
                >
                    <span class="quality-dot" aria-hidden="true"></span>
                    {q.as_str()}
                </button>
            })}
            <Show when=move || show_stats.get()>
                <StatsPanel peer=stats_id.clone()/>
            </Show>
            {move || link_label().map(|text| view! { <div class="tile-status" role="status">{text}</div> })}
        </div>
    }
}
