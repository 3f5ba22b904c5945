use leptos::html::Input;
use leptos::prelude::*;

/// A labelled single-line text input bound to `value`: the visible label
/// above it, its accessible name (`name`, the label unless given), the
/// length limit the server enforces, and `on_edit` after every keystroke
/// (to clear a stale error).
#[component]
pub fn TextField(
    #[prop(into)] label: String,
    value: RwSignal<String>,
    max_chars: usize,
    /// The accessible name, when it should say more than the label.
    #[prop(optional)]
    name: Option<&'static str>,
    /// A muted note after the label, e.g. "(optional)".
    #[prop(optional)]
    note: Option<&'static str>,
    /// "text" unless given ("password" for passcodes).
    #[prop(optional)]
    kind: Option<&'static str>,
    #[prop(optional)] placeholder: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] autofocus: bool,
    #[prop(optional)] required: bool,
    #[prop(optional)] node_ref: NodeRef<Input>,
    #[prop(optional)] on_edit: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label.clone()}{note.map(|note| view! { " " <span class="muted">{note}</span> })}</span>
            <input
                type=kind.unwrap_or("text")
                node_ref=node_ref
                aria-label=name.map_or_else(|| label.clone(), str::to_owned)
                placeholder=placeholder
                autocomplete=autocomplete
                autofocus=autofocus
                required=required
                maxlength=max_chars.to_string()
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    if let Some(on_edit) = on_edit {
                        on_edit.run(());
                    }
                }
            />
        </label>
    }
}
