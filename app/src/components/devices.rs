use crate::call::Device;
use leptos::prelude::*;

/// The `<option>`s of a camera or microphone picker, the current one selected.
#[component]
pub fn DeviceOptions(devices: Memo<Vec<Device>>, current: Memo<Option<String>>) -> impl IntoView {
    view! {
        <For each=move || devices.get() key=|d| d.id.clone() let:device>
            <option value=device.id.clone() selected=move || current.get().as_deref() == Some(device.id.as_str())>
                {device.label.clone()}
            </option>
        </For>
    }
}
