use super::icons;
use super::initials;
use crate::protocol::{ClientMsg, MediaMode, Member, PeerId};
use crate::session::use_session;
use leptos::prelude::*;

/// The participant list in the side panel, with the host's controls for
/// the host. The server checks the role again on every request.
#[component]
pub fn MemberList(#[prop(into)] open: Signal<bool>, on_close: Callback<()>) -> impl IntoView {
    let session = use_session();
    // Raised hands first, the first raised at the top; then join order.
    let members = Memo::new(move |_| {
        session.model.with(|m| {
            let Some(room) = m.room.as_ref() else { return Vec::new() };
            let mut list: Vec<Member> = room.raised_hands().into_iter().cloned().collect();
            list.extend(room.members.iter().filter(|x| x.hand.is_none()).cloned());
            list
        })
    });
    let me = Memo::new(move |_| session.model.with(|m| m.me.clone()));
    let host = Memo::new(move |_| session.model.with(|m| m.room.as_ref().and_then(|r| r.host().cloned())));
    let i_host = Memo::new(move |_| session.model.with(|m| m.is_host()));
    let locked = Memo::new(move |_| session.model.with(|m| m.room.as_ref().is_some_and(|r| r.locked)));
    let via_server = Memo::new(move |_| {
        session.model.with(|m| m.room.as_ref().is_some_and(|r| r.media == MediaMode::Sfu))
    });
    let remove = move |id: PeerId| session.send(ClientMsg::RemovePeer { id });
    let row = move |member: Member| {
        let id = member.id.clone();
        let is_me = Memo::new(move |_| me.get().as_ref() == Some(&id));
        let id = member.id.clone();
        let is_host = Memo::new(move |_| host.get().as_ref() == Some(&id));
        let id = member.id.clone();
        let name = member.nickname.clone();
        view! {
            <li class="member">
                <span class="avatar small" aria-hidden="true">{initials(&member.nickname)}</span>
                <span class="member-name">{member.nickname.clone()}</span>
                {member.hand.is_some().then(|| view! {
                    <span class="hand-badge" role="img" aria-label="hand raised" title="Hand raised" data-testid="raised-hand">{icons::hand()}</span>
                })}
                {move || is_host.get().then(|| view! { <span class="badge host" data-testid="host-badge">"host"</span> })}
                {move || is_me.get().then(|| view! { <span class="muted">"you"</span> })}
                {(member.hand.is_some()).then(|| {
                    let id = member.id.clone();
                    let label = format!("Lower {}'s hand", member.nickname);
                    move || (i_host.get() && !is_me.get()).then(|| {
                        let id = id.clone();
                        view! {
                            <button class="ghost small" aria-label=label.clone()
                                on:click=move |_| session.send(ClientMsg::LowerHand { id: id.clone() })
                            >"Lower"</button>
                        }
                    })
                })}
                {move || (i_host.get() && !is_me.get()).then(|| {
                    let id = id.clone();
                    view! {
                        <button
                            class="ghost small"
                            aria-label=format!("Remove {} from the room", name)
                            on:click=move |_| remove(id.clone())
                        >"Remove"</button>
                    }
                })}
            </li>
        }
    };
    view! {
        <section class="people panel" id="people-panel" aria-labelledby="people-title" hidden=move || !open.get()>
            <div class="people-head">
                <h2 id="people-title">"People " <span class="badge" data-testid="member-count">{move || members.with(Vec::len)}</span></h2>
                {move || (locked.get() && !i_host.get()).then(|| view! { <span class="badge" data-testid="locked-badge">"locked"</span> })}
                <button class="ghost icon-button" aria-label="Close people" title="Close"
                    on:click=move |_| on_close.run(())>{icons::close()}</button>
            </div>
            <Show when=move || i_host.get()>
                <div class="host-controls" role="group" aria-label="Host controls">
                    <button
                        class="secondary small"
                        aria-pressed=move || locked.get().to_string()
                        on:click=move |_| session.send(ClientMsg::LockRoom { locked: !locked.get_untracked() })
                    >{move || if locked.get() { "Unlock room" } else { "Lock room" }}</button>
                    <button class="secondary small" on:click=move |_| session.send(ClientMsg::MuteAll)>"Mute everyone"</button>
                    <button
                        class="secondary small"
                        aria-pressed=move || via_server.get().to_string()
                        title="Through the server: bigger rooms, less upload for everyone, but the server decrypts media. \
                               Browser to browser: end-to-end encrypted."
                        on:click=move |_| {
                            let media = if via_server.get_untracked() { MediaMode::Mesh } else { MediaMode::Sfu };
                            session.send(ClientMsg::SetRoomMedia { media })
                        }
                    >"Route through server"</button>
                </div>
            </Show>
            <ul class="member-list" data-testid="member-list">
                <For each=move || members.get() key=|m| (m.id.clone(), m.nickname.clone(), m.hand) let:member>
                    {row(member)}
                </For>
            </ul>
        </section>
    }
}
