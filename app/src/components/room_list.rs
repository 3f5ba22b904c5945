use super::icons;
use crate::protocol::LOBBY_LIST_MAX;
use crate::session::use_session;
use leptos::prelude::*;

fn people(count: u32) -> String {
    if count == 1 {
        "1 person".into()
    } else {
        format!("{count} people")
    }
}

/// The live list of public rooms; `on_join` receives the chosen room.
#[component]
pub fn RoomList(on_join: Callback<String>) -> impl IntoView {
    let session = use_session();
    let known = Memo::new(move |_| session.model.with(|m| m.rooms_known));
    let rooms = Memo::new(move |_| session.model.with(|m| m.rooms.clone()));
    view! {
        <section class="card rooms" aria-labelledby="rooms-title">
            <div class="card-head">
                <h2 id="rooms-title">"Public rooms"</h2>
                <span class="muted live" aria-hidden="true">"live"</span>
            </div>
            <Show when=move || known.get() fallback=|| view! { <p class="muted">"Loading rooms…"</p> }>
                <Show
                    when=move || !rooms.with(Vec::is_empty)
                    fallback=|| view! { <p class="empty">"No rooms yet. Start one and share the link."</p> }
                >
                    <ul class="room-list" data-testid="room-list">
                        <For each=move || rooms.get().into_iter().take(LOBBY_LIST_MAX) key=|r| r.clone() let:room>
                            <li class="room-row" data-room=room.name.clone() data-passcode=room.passcode.to_string() data-locked=room.locked.to_string()>
                                <span class="room-name">
                                    {room.name.clone()}
                                    {room.passcode.then(|| view! {
                                        <span class="badge lock" title="Needs a passcode" aria-label="needs a passcode">
                                            {icons::lock()}
                                        </span>
                                    })}
                                    {room.locked.then(|| view! { <span class="badge" title="The host locked this room">"locked"</span> })}
                                </span>
                                <span class="room-count" data-testid="room-count">{people(room.count)}</span>
                                <button
                                    class="secondary"
                                    disabled=room.locked
                                    aria-label=format!("Join room {}", room.name)
                                    on:click={
                                        let name = room.name.clone();
                                        move |_| on_join.run(name.clone())
                                    }
                                >"Join"</button>
                            </li>
                        </For>
                    </ul>
                </Show>
            </Show>
        </section>
    }
}
