use super::icons;
use super::initials;
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
    view! {
        <section class="stage" aria-label="Call" data-count=move || ids.with(|v| v.as_ref().map_or(0, Vec::len))>
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
    let link_label = move || match link.get() {
        Some(PeerLink::Connecting) => Some("Connecting…"),
        Some(PeerLink::Reconnecting) => Some("Reconnecting…"),
        _ => None,
    };
    let link_state = move || match link.get() {
        None => "self",
        Some(PeerLink::Connecting) => "connecting",
        Some(PeerLink::Connected) => "connected",
        Some(PeerLink::Reconnecting) => "reconnecting",
    };
    view! {
        <div
            class="tile" class:me=is_me data-testid="tile" data-peer=id.0.clone()
            data-link=link_state
            data-audio=move || media.get().audio.to_string()
            data-video=move || media.get().video.to_string()
        >
            {if is_me { view! { <LocalVideo/> }.into_any() } else { view! { <RemoteVideo peer=id.clone()/> }.into_any() }}
            <Show when=move || !media.get().video>
                <div class="tile-off" data-testid="camera-off">
                    <div class="avatar" aria-hidden="true">{move || initials(&nickname())}</div>
                </div>
            </Show>
            <div class="tile-name">
                <Show when=move || !media.get().audio>
                    <span class="muted-badge" aria-label="microphone off" title="Microphone off">{icons::mic_off()}</span>
                </Show>
                <span>{nickname}{is_me.then_some(" (you)")}</span>
            </div>
            {move || link_label().map(|text| view! { <div class="tile-status" role="status">{text}</div> })}
        </div>
    }
}
