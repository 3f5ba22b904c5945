use crate::call::use_call;
use crate::protocol::PeerId;
use leptos::html::Video;
use leptos::prelude::*;

/// Our own camera, mirrored like a mirror, never played back (muted).
#[component]
pub fn LocalVideo() -> impl IntoView {
    let call = use_call();
    let video = NodeRef::<Video>::new();
    let rev = Memo::new(move |_| call.state.with(|s| s.local_rev));
    // A shared screen is shown as it is, not mirrored.
    let sharing = Memo::new(move |_| call.state.with(|s| s.sharing));
    Effect::new(move |_| {
        let _ = rev.get();
        if let Some(el) = video.get() {
            call.attach_local(&el);
        }
    });
    view! {
        <video class:mirror=move || !sharing.get() node_ref=video autoplay playsinline muted prop:muted=true
            data-testid="local-video"></video>
    }
}

/// A remote peer's camera and microphone (the element plays both).
#[component]
pub fn RemoteVideo(peer: PeerId) -> impl IntoView {
    let call = use_call();
    let video = NodeRef::<Video>::new();
    let id = peer.clone();
    let rev = Memo::new(move |_| call.state.with(|s| s.peer(&id).map(|p| p.stream_rev)));
    Effect::new(move |_| {
        // `get`, not `track`: a memo is lazy and only subscribes to its own
        // inputs once it has been evaluated.
        let _ = rev.get();
        if let Some(el) = video.get() {
            call.attach_remote(&el, &peer);
        }
    });
    view! { <video node_ref=video autoplay playsinline data-testid="remote-video"></video> }
}
