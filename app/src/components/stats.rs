use crate::call::quality::{sparkline, StatSample};
use crate::call::use_call;
use crate::protocol::PeerId;
use leptos::prelude::*;

const W: f64 = 120.0;
const H: f64 = 28.0;

fn row(label: &'static str, unit: &'static str, values: Vec<f64>, floor: f64) -> impl IntoView {
    let current = values.last().map(|v| format!("{v:.0} {unit}")).unwrap_or_else(|| "–".into());
    let points = sparkline(&values, W, H, floor);
    view! {
        <div class="stat-row">
            <span class="stat-label">{label}</span>
            <svg class="spark" viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" aria-hidden="true">
                <polyline points=points fill="none" stroke="currentColor" stroke-width="1.5"/>
            </svg>
            <span class="stat-value">{current}</span>
        </div>
    }
}

/// The last minute of one connection: bitrate, round-trip time, loss, fps.
#[component]
pub fn StatsPanel(peer: PeerId) -> impl IntoView {
    let call = use_call();
    let history = Memo::new(move |_| {
        call.state.with(|s| {
            s.peer(&peer).map(|p| p.stats.iter().copied().collect::<Vec<StatSample>>()).unwrap_or_default()
        })
    });
    let series = move |f: fn(&StatSample) -> f64| history.with(|h| h.iter().map(f).collect::<Vec<f64>>());
    view! {
        <div class="stats-panel" data-testid="stats-panel"
            data-kbps=move || history.with(|h| h.last().map_or(0.0, |s| s.kbps).round().to_string())>
            {move || row("Bitrate", "kbps", series(|s| s.kbps), 100.0)}
            {move || row("RTT", "ms", series(|s| s.rtt_ms.unwrap_or(0.0)), 50.0)}
            {move || row("Loss", "%", series(|s| s.loss_pct), 5.0)}
            {move || row("FPS", "fps", series(|s| s.fps.unwrap_or(0.0)), 30.0)}
            <div class="stat-row stat-text">
                <span class="stat-label">"Video"</span>
                <span class="stat-value" data-testid="stats-video-size">
                    {move || history.with(|h| match h.last().and_then(|s| s.frame) {
                        Some((w, h)) => format!("{w}×{h}"),
                        None => "–".into(),
                    })}
                </span>
            </div>
        </div>
    }
}
