use super::icons;
use super::initials;
use super::stats::StatsPanel;
use super::video::{LocalVideo, RemoteVideo};
use crate::browser;
use crate::call::tile::{grid_fit, tile_aspects, tile_view, StageFacts, TileView};
use crate::call::use_call;
use crate::protocol::PeerId;
use crate::session::use_session;
use leptos::prelude::*;

/// The stage's `gap` (0.75rem).
const GAP_PX: f64 = 12.0;

/// The call: one tile per person in the room, ourselves first.
#[component]
pub fn Stage() -> impl IntoView {
    let session = use_session();
    let call = use_call();
    // Everything the tiles need from the session, in one memo: a chat line
    // changes the session, not this, and reaches no tile.
    let facts = Memo::new(move |_| session.model.with(StageFacts::of));
    let focus = Memo::new(move |_| facts.with(|f| call.state.with(|s| f.focused(s))));
    // The grid is sized to the stage (re-fitted when the window or a panel
    // changes it); until the stage is measured, CSS lays it out.
    let stage = NodeRef::<leptos::html::Section>::new();
    let size = RwSignal::new(None::<(f64, f64)>);
    let observer = StoredValue::new_local(None::<browser::SizeObserver>);
    Effect::new(move |_| {
        if let Some(el) = stage.get() {
            observer.set_value(browser::observe_size(&el, move |w, h| size.set(Some((w, h)))));
        }
    });
    let fit = Memo::new(move |_| {
        let (width, height) = size.get()?;
        let n = facts.with(|f| call.state.with(|s| f.in_grid(s)));
        Some(grid_fit(n, width, height, GAP_PX, tile_aspects(width, height)))
    });
    let grid_style = move || {
        fit.get().map(|f| format!("--tile-w:{}px;--tile-h:{}px", f.width, f.height)).unwrap_or_default()
    };
    view! {
        <section node_ref=stage class="stage" class:focus=move || focus.get() aria-label="Call"
            class:fitted=move || fit.with(Option::is_some) style=grid_style
            data-count=move || facts.with(|f| f.members.len())>
            <For each=move || facts.with(StageFacts::tile_order) key=|id| id.clone() let:id>
                <Tile id=id facts=facts/>
            </For>
        </section>
    }
}

#[component]
fn Tile(id: PeerId, facts: Memo<StageFacts>) -> impl IntoView {
    let call = use_call();
    let view_id = id.clone();
    let tile = Memo::new(move |_| facts.with(|f| call.state.with(|s| tile_view(f, s, &view_id))));
    let is_me = tile.with_untracked(|t| t.is_me);
    // Blocks that rebuild their elements wait for their own part to change
    // (a rebuilt statistics button would lose keyboard focus).
    let quality = Memo::new(move |_| tile.with(|t| t.quality));
    let status = Memo::new(move |_| tile.with(|t| t.status));
    let show_stats = RwSignal::new(false);
    let stats_id = id.clone();
    let pin_id = id.clone();
    let pinned = Memo::new(move |_| tile.with(|t| t.pinned));
    let pin_label = move || {
        let name = tile.with(|t| t.nickname.clone());
        if pinned.get() {
            format!("Unpin {name}")
        } else {
            format!("Pin {name}")
        }
    };
    view! {
        <div
            class="tile" class:me=is_me class:speaking=move || tile.with(|t| t.speaking)
            class:presenting=move || tile.with(|t| t.presenting)
            class:featured=move || tile.with(|t| t.featured)
            class:floating=move || tile.with(|t| t.floating)
            data-testid="tile" data-peer=id.0.clone()
            data-link=move || tile.with(TileView::link_state)
            data-speaking=move || tile.with(|t| t.speaking).to_string()
            data-presenting=move || tile.with(|t| t.presenting).to_string()
            data-audio=move || tile.with(|t| t.media.audio).to_string()
            data-video=move || tile.with(|t| t.media.video).to_string()
        >
            {if is_me { view! { <LocalVideo/> }.into_any() } else { view! { <RemoteVideo peer=id.clone()/> }.into_any() }}
            <Show when=move || tile.with(TileView::shows_avatar)>
                <div class="tile-off" data-testid="camera-off">
                    <div class="avatar" aria-hidden="true">{move || tile.with(|t| initials(&t.nickname))}</div>
                </div>
            </Show>
            <div class="tile-name">
                <Show when=move || !tile.with(|t| t.media.audio)>
                    <span class="muted-badge" aria-label="microphone off" title="Microphone off">{icons::mic_off()}</span>
                </Show>
                <Show when=move || tile.with(|t| t.hand_raised)>
                    <span class="hand-badge" role="img" aria-label="hand raised" title="Hand raised">{icons::hand()}</span>
                </Show>
                <span>{move || tile.with(|t| t.nickname.clone())}{is_me.then_some(" (you)")}</span>
                <Show when=move || tile.with(|t| t.presenting)>
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
            {move || status.get().map(|text| view! { <div class="tile-status" role="status">{text}</div> })}
            {is_me.then(|| {
                let floating = Memo::new(move |_| tile.with(|t| t.floating));
                view! {
                    <button class="minimise" aria-pressed=move || floating.get().to_string()
                        aria-label=move || if floating.get() { "Put your video back in the grid" } else { "Minimise your video" }
                        title=move || if floating.get() { "Back in the grid" } else { "Minimise: keep yourself small in a corner" }
                        on:click=move |_| call.toggle_self_view()>{icons::minimise()}</button>
                }
            })}
            <button class="pin" class:active=move || pinned.get() aria-label=pin_label
                aria-pressed=move || pinned.get().to_string()
                title=move || if pinned.get() { "Unpin" } else { "Pin: keep them large, for you only" }
                on:click=move |_| call.toggle_pin(&pin_id)>{icons::pin()}</button>
            <div class="reactions" aria-hidden="true">
                <For each=move || tile.with(|t| t.reactions.clone()) key=|r| r.0 let:r>
                    <span class="reaction" data-testid="reaction">{r.1.emoji()}</span>
                </For>
            </div>
        </div>
    }
}
