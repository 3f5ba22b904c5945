use super::initials;
use crate::protocol::Member;
use crate::session::use_session;
use leptos::prelude::*;

fn members() -> (Memo<Vec<Member>>, Memo<Option<String>>) {
    let session = use_session();
    let members = Memo::new(move |_| {
        session.model.with(|m| m.room.as_ref().map(|r| r.members.clone()).unwrap_or_default())
    });
    let me = Memo::new(move |_| session.model.with(|m| m.me.as_ref().map(|id| id.0.clone())));
    (members, me)
}

/// The participant list in the side panel.
#[component]
pub fn MemberList() -> impl IntoView {
    let (members, me) = members();
    view! {
        <section class="people" aria-labelledby="people-title">
            <h2 id="people-title">"People " <span class="badge" data-testid="member-count">{move || members.with(Vec::len)}</span></h2>
            <ul class="member-list" data-testid="member-list">
                <For each=move || members.get() key=|m| (m.id.clone(), m.nickname.clone()) let:member>
                    <li class="member">
                        <span class="avatar small" aria-hidden="true">{initials(&member.nickname)}</span>
                        <span class="member-name">{member.nickname.clone()}</span>
                        {move || (me.get().as_deref() == Some(member.id.0.as_str())).then(|| view! { <span class="muted">"you"</span> })}
                    </li>
                </For>
            </ul>
        </section>
    }
}
