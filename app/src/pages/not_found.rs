use crate::components::{page_title, TopBar};
use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    page_title("Not found");
    view! {
        <div class="page">
            <TopBar/>
            <main id="main" tabindex="-1" class="center">
                <div class="card narrow">
                    <h1>"Nothing here"</h1>
                    <p class="muted">"That page does not exist. Rooms live at /r/room-name."</p>
                    <a class="button primary" href="/">"Back to the lobby"</a>
                </div>
            </main>
        </div>
    }
}
