//! One participant of the SFU load: a WebSocket to the server, joined to its
//! room, publishing audio and (simulcast) video on one connection and
//! receiving everyone else's on another, as Noom's page does.

use super::conn::Conn;
use super::frame::{self, Stamp, Tally};
use super::{Counters, Phase, Plan};
use crate::{connect, note_error, now_us, Ws};
use app::protocol::{decode_server, encode, ClientMsg, MediaTransport, SdpType, ServerMsg, SignalPayload};
use futures::{SinkExt, StreamExt};
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid, Simulcast, SimulcastLayer};
use str0m::Event;
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::Message;

/// A microphone's packet every 20 ms, as Opus in a browser.
const AUDIO_EVERY: Duration = Duration::from_millis(20);
/// What a voice at a normal speaking level says (dBov), and silence.
const SPEAKING: i8 = -15;
const SILENT: i8 = -127;
/// A keyframe is this many times a delta frame of its layer.
const KEYFRAME_FACTOR: usize = 3;

/// Who this participant is in the run.
pub struct Me {
    pub index: u32,
    /// Place in its room (0 speaks first).
    pub position: usize,
    pub room: String,
}

struct Publisher {
    pending: Option<SdpPendingOffer>,
    audio: Option<Mid>,
    video: Option<Mid>,
    video_number: u32,
    audio_number: u32,
    next_video: Instant,
    next_audio: Instant,
    /// Layers (by index) owed a keyframe.
    keyframes: Vec<bool>,
    /// Layers the server asked us to stop sending.
    paused: Vec<bool>,
}

/// Runs one participant until the run is done; returns its latency
/// samples (µs) from the measured phase.
pub async fn run(
    me: Me,
    plan: Arc<Plan>,
    counters: Arc<Counters>,
    phase: watch::Receiver<Phase>,
    gate: Arc<Semaphore>,
) -> Vec<u32> {
    // Joins come in waves of `--parallel`, not all at once.
    let permit = gate.acquire().await.expect("never closed");
    let joined = tokio::time::timeout(Duration::from_secs(30), join(&me, &plan)).await;
    drop(permit);
    match joined {
        Ok(Ok(ws)) => {
            counters.joined.fetch_add(1, Ordering::Relaxed);
            match call(ws, &me, &plan, &counters, phase).await {
                Ok(samples) => samples,
                Err(e) => {
                    counters.broken.fetch_add(1, Ordering::Relaxed);
                    note_error(&counters.errors, &e);
                    Vec::new()
                }
            }
        }
        other => {
            counters.failed.fetch_add(1, Ordering::Relaxed);
            let why = match other {
                Ok(Err(e)) => e,
                _ => "join timeout".into(),
            };
            note_error(&counters.errors, &why);
            Vec::new()
        }
    }
}

async fn join(me: &Me, plan: &Plan) -> Result<Ws, String> {
    let mut ws = connect(&plan.url, None).await?;
    let hello = [
        ClientMsg::SetNickname { nickname: format!("s{}", me.index) },
        ClientMsg::Join { room: me.room.clone(), passcode: None },
    ];
    for msg in hello {
        ws.send(Message::text(encode(&msg))).await.map_err(|e| e.to_string())?;
    }
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => match decode_server(&text) {
                Ok(ServerMsg::Joined { .. }) => return Ok(ws),
                Ok(ServerMsg::Error { code, .. }) => return Err(format!("join: {}", code.as_str())),
                _ => {}
            },
            Some(Ok(_)) => {}
            _ => return Err("closed before joining".into()),
        }
    }
}

async fn call(
    mut ws: Ws,
    me: &Me,
    plan: &Plan,
    counters: &Counters,
    mut phase: watch::Receiver<Phase>,
) -> Result<Vec<u32>, String> {
    let now = Instant::now();
    let mut publish = Conn::new(plan.ip, now).await.map_err(|e| e.to_string())?;
    let mut subscribe = Conn::new(plan.ip, now).await.map_err(|e| e.to_string())?;
    let layers = plan.layers.len();
    let mut sender = Publisher {
        pending: None,
        audio: None,
        video: None,
        video_number: 0,
        audio_number: 0,
        next_video: now,
        next_audio: now,
        keyframes: vec![true; layers],
        paused: vec![false; layers],
    };
    let publishes = me.position < plan.publishers;
    if publishes {
        offer(&mut ws, &mut publish, &mut sender, plan).await?;
    }

    let video_every = Duration::from_secs_f64(1.0 / plan.fps);
    // Everyone else's audio and video who publishes.
    let others = 2 * (plan.publishers - usize::from(publishes));
    if others == 0 {
        // The one publisher of its room: nobody to wait for.
        counters.ready.fetch_add(1, Ordering::Relaxed);
    }
    let mut seen: HashSet<(u32, bool)> = HashSet::new();
    let mut tally = Tally::default();
    let mut samples = Vec::new();
    let mut measuring = false;
    let mut events = Vec::new();
    let (mut buf_p, mut buf_s) = (vec![0u8; 2048], vec![0u8; 2048]);
    loop {
        let now = Instant::now();
        if publish.connected {
            let level = if speaks(me, plan) { SPEAKING } else { SILENT };
            if now >= sender.next_audio {
                send_audio(&mut publish, &mut sender, me, now, level)?;
                sender.next_audio = next_tick(sender.next_audio, AUDIO_EVERY, now);
            }
            if now >= sender.next_video {
                send_video(&mut publish, &mut sender, me, plan, now)?;
                sender.next_video = next_tick(sender.next_video, video_every, now);
            }
        }
        publish.tick(now).map_err(rtc)?;
        subscribe.tick(now).map_err(rtc)?;
        publish.poll(&mut events).map_err(rtc)?;
        for event in events.drain(..) {
            if let Event::KeyframeRequest(req) = event {
                match req.rid.and_then(|rid| plan.rids.iter().position(|r| *r == rid)) {
                    Some(layer) => sender.keyframes[layer] = true,
                    None => sender.keyframes.iter_mut().for_each(|k| *k = true),
                }
            }
        }
        subscribe.poll(&mut events).map_err(rtc)?;
        for event in events.drain(..) {
            let Event::MediaData(data) = event else { continue };
            let video = data.params.spec().codec == Codec::Vp8;
            let Some(stamp) = frame::read(&data.data, video) else { continue };
            if seen.insert((stamp.publisher, video)) && seen.len() == others {
                counters.ready.fetch_add(1, Ordering::Relaxed);
            }
            if measuring {
                tally.saw(&stamp, video);
                samples.push(now_us().saturating_sub(stamp.sent_us).min(u64::from(u32::MAX)) as u32);
            }
        }

        let mut wake = publish.timeout.min(subscribe.timeout);
        if publish.connected {
            wake = wake.min(sender.next_audio).min(sender.next_video);
        }
        tokio::select! {
            changed = phase.changed() => {
                if changed.is_err() {
                    break;
                }
                match *phase.borrow() {
                    Phase::Done => break,
                    Phase::Load => measuring = true,
                    Phase::Joining => {}
                }
            }
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => match decode_server(&text) {
                    Ok(msg) => on_server(msg, &mut ws, &mut publish, &mut subscribe, &mut sender, counters).await?,
                    Err(e) => note_error(&counters.errors, &format!("decode: {e}")),
                },
                Some(Ok(_)) => {}
                _ => return Err("socket closed by the server".into()),
            },
            got = publish.socket.recv_from(&mut buf_p) => {
                let (n, source) = got.map_err(|e| e.to_string())?;
                publish.feed(Instant::now(), source, &buf_p[..n]).map_err(rtc)?;
                while let Ok((n, source)) = publish.socket.try_recv_from(&mut buf_p) {
                    publish.feed(Instant::now(), source, &buf_p[..n]).map_err(rtc)?;
                }
            }
            got = subscribe.socket.recv_from(&mut buf_s) => {
                let (n, source) = got.map_err(|e| e.to_string())?;
                let mut datagrams = 1;
                let mut bytes = n as u64;
                subscribe.feed(Instant::now(), source, &buf_s[..n]).map_err(rtc)?;
                while let Ok((n, source)) = subscribe.socket.try_recv_from(&mut buf_s) {
                    datagrams += 1;
                    bytes += n as u64;
                    subscribe.feed(Instant::now(), source, &buf_s[..n]).map_err(rtc)?;
                }
                if measuring {
                    counters.datagrams.fetch_add(datagrams, Ordering::Relaxed);
                    counters.bytes.fetch_add(bytes, Ordering::Relaxed);
                }
            }
            () = tokio::time::sleep_until(wake.into()) => {}
        }
    }
    counters.frames.fetch_add(tally.frames, Ordering::Relaxed);
    counters.lost.fetch_add(tally.lost, Ordering::Relaxed);
    counters.late.fetch_add(tally.late, Ordering::Relaxed);
    counters.send_drops.fetch_add(publish.dropped + subscribe.dropped, Ordering::Relaxed);
    let _ = ws.close(None).await;
    Ok(samples)
}

fn rtc(e: str0m::RtcError) -> String {
    format!("str0m: {e}")
}

/// The next time a periodic sender is due; a generator that fell behind
/// skips ahead rather than sending a burst.
fn next_tick(due: Instant, every: Duration, now: Instant) -> Instant {
    let next = due + every;
    if next < now {
        now + every
    } else {
        next
    }
}

/// Whether this participant is the one speaking in its room now: the
/// first, or each in turn when the speaker changes.
fn speaks(me: &Me, plan: &Plan) -> bool {
    match plan.speaker_every {
        None => me.position == 0,
        Some(every) => {
            let turn = now_us() / every.as_micros().max(1) as u64;
            turn % plan.publishers as u64 == me.position as u64
        }
    }
}

async fn offer(ws: &mut Ws, publish: &mut Conn, sender: &mut Publisher, plan: &Plan) -> Result<(), String> {
    let mut api = publish.rtc.sdp_api();
    sender.audio =
        Some(api.add_media(MediaKind::Audio, Direction::SendOnly, Some("load".into()), None, None));
    let simulcast = (plan.rids.len() > 1).then(|| {
        let mut s = Simulcast::new();
        for rid in &plan.rids {
            s.add_send_layer(SimulcastLayer::new(rid));
        }
        s
    });
    sender.video =
        Some(api.add_media(MediaKind::Video, Direction::SendOnly, Some("load".into()), None, simulcast));
    let (offer, pending) = api.apply().ok_or("no offer")?;
    sender.pending = Some(pending);
    let payload = SignalPayload::Description { sdp_type: SdpType::Offer, sdp: offer.to_sdp_string() };
    let msg = ClientMsg::Media { transport: MediaTransport::Publish, payload };
    ws.send(Message::text(encode(&msg))).await.map_err(|e| e.to_string())
}

fn send_audio(
    publish: &mut Conn,
    sender: &mut Publisher,
    me: &Me,
    now: Instant,
    level: i8,
) -> Result<(), String> {
    let Some(mid) = sender.audio else { return Ok(()) };
    sender.audio_number += 1;
    let stamp = Stamp { publisher: me.index, number: sender.audio_number, layer: 0, sent_us: now_us() };
    let time = MediaTime::new(u64::from(sender.audio_number) * 960, Frequency::FORTY_EIGHT_KHZ);
    let writer = publish.rtc.writer(mid).ok_or("no audio writer")?.audio_level(level, level > -40);
    let pt = writer.payload_params().next().ok_or("no audio codec")?.pt();
    writer.write(pt, now, time, frame::audio(&stamp, 80)).map_err(rtc)
}

fn send_video(
    publish: &mut Conn,
    sender: &mut Publisher,
    me: &Me,
    plan: &Plan,
    now: Instant,
) -> Result<(), String> {
    let Some(mid) = sender.video else { return Ok(()) };
    sender.video_number += 1;
    let ticks = (f64::from(sender.video_number) * 90_000.0 / plan.fps) as u64;
    for (layer, bytes) in plan.layers.iter().enumerate() {
        if sender.paused[layer] {
            continue;
        }
        let keyframe = std::mem::take(&mut sender.keyframes[layer]);
        let size = if keyframe { bytes * KEYFRAME_FACTOR } else { *bytes };
        let stamp =
            Stamp { publisher: me.index, number: sender.video_number, layer: layer as u8, sent_us: now_us() };
        // Each layer has its own RTP clock, as a browser's do.
        let time = MediaTime::from_90khz(layer as u64 * 7_000_000 + ticks);
        let mut writer = publish.rtc.writer(mid).ok_or("no video writer")?;
        if let Some(rid) = plan.rids.get(layer).filter(|_| plan.rids.len() > 1) {
            writer = writer.rid(*rid);
        }
        let pt = writer.payload_params().next().ok_or("no video codec")?.pt();
        writer.write(pt, now, time, frame::video(&stamp, keyframe, size)).map_err(rtc)?;
    }
    Ok(())
}

async fn on_server(
    msg: ServerMsg,
    ws: &mut Ws,
    publish: &mut Conn,
    subscribe: &mut Conn,
    sender: &mut Publisher,
    counters: &Counters,
) -> Result<(), String> {
    match msg {
        ServerMsg::Media {
            transport: MediaTransport::Publish,
            payload: SignalPayload::Description { sdp, .. },
        } => {
            let answer = SdpAnswer::from_sdp_string(&sdp).map_err(|e| e.to_string())?;
            let pending = sender.pending.take().ok_or("an answer to no offer")?;
            publish.rtc.sdp_api().accept_answer(pending, answer).map_err(rtc)?;
        }
        ServerMsg::Media {
            transport: MediaTransport::Subscribe,
            payload: SignalPayload::Description { sdp, .. },
        } => {
            let offer = SdpOffer::from_sdp_string(&sdp).map_err(|e| e.to_string())?;
            let answer = subscribe.rtc.sdp_api().accept_offer(offer).map_err(rtc)?;
            let payload =
                SignalPayload::Description { sdp_type: SdpType::Answer, sdp: answer.to_sdp_string() };
            let msg = ClientMsg::Media { transport: MediaTransport::Subscribe, payload };
            ws.send(Message::text(encode(&msg))).await.map_err(|e| e.to_string())?;
        }
        ServerMsg::PausedLayers { rids } => {
            for (layer, paused) in sender.paused.iter_mut().enumerate() {
                let now_paused = rids.iter().any(|r| layer_rid(layer, sender.keyframes.len()) == r.as_str());
                // A resumed layer starts on a keyframe, as an encoder's does.
                if *paused && !now_paused {
                    sender.keyframes[layer] = true;
                }
                *paused = now_paused;
            }
        }
        ServerMsg::Error { code, .. } => note_error(&counters.errors, code.as_str()),
        _ => {}
    }
    Ok(())
}

/// The rid of layer `index` of `count`, lowest first (`q`, `h`, `f`).
pub fn layer_rid(index: usize, count: usize) -> &'static str {
    match (count, index) {
        (2, 1) => "f",
        (_, 0) => "q",
        (_, 1) => "h",
        _ => "f",
    }
}
