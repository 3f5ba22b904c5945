//! One server process: the hub plus a bounded outbox per connection.
//!
//! Deliveries happen under the same lock as the hub update that produced
//! them, so every recipient sees events in the order the hub decided them
//! (a `peer_joined` never arrives after that peer's first chat). Sending is
//! `try_send` into a bounded queue, so holding the lock never waits on a
//! socket, and a client that cannot keep up is disconnected instead of
//! stalling its room.

use crate::bus::{BusCmd, Handover};
use crate::hub::{
    ClusterEvent, Delivery, Handed, Hub, HubConfig, HubError, Outgoing, Output, PeerMap, Placed, Prepared,
};
use crate::limits::{Guesses, Slot};
use crate::media::{MediaCmd, MediaEvent};
use crate::outbox::{outbox_pair, Inbox, Kick, Outbox};
use crate::resume::{Claim, ResumeError, Sessions, Taken, Tokens};
use app::protocol::{
    self, ClientMsg, ErrorCode, PeerId, ServerMsg, CLOSE_RESTARTING, CLOSE_RESUMED_ELSEWHERE, CLOSE_TOO_SLOW,
};
use axum::extract::ws::Utf8Bytes;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

/// How long a join waits to learn a room from Redis.
const REPLICATE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

pub struct Node {
    inner: Mutex<Inner>,
    /// To the other nodes, when there are any (Redis scale-out): the same
    /// queue as `Inner::bus`, for what is asked outside the hub's lock.
    bus: OnceLock<mpsc::UnboundedSender<BusCmd>>,
    /// Wrong passcodes per room and client address (shared with other
    /// nodes through Redis when clustered).
    guesses: Mutex<Guesses>,
    hashing: Hashing,
}

/// Passcode hashes run on the blocking pool, a few at a time: each is
/// slow on purpose, and a flood of joins must not take every core.
struct Hashing(tokio::sync::Semaphore);

impl Default for Hashing {
    fn default() -> Self {
        Hashing(tokio::sync::Semaphore::new(2))
    }
}

/// How long a session waits for its page to come back, unless configured.
pub const RESUME_GRACE_MS: u64 = 30_000;

struct Inner {
    hub: Hub,
    /// Every session's queue: a live socket's, or a parked session's
    /// (see `sessions`) while it waits for its page to come back.
    outboxes: PeerMap<Outbox>,
    tokens: Tokens,
    /// A parked session keeps its socket's place in the per-address limit:
    /// dropping sockets on purpose must not pile up sessions past it. One
    /// handed over by another node has no socket here yet.
    sessions: Sessions<Option<Slot>>,
    /// This node's name in the cluster, which its tokens carry.
    node_id: Option<u64>,
    /// Told to stop: in a cluster, sessions wait for another node to ask
    /// for them instead of ending with their sockets.
    stopping: bool,
    /// When this process started (ms): seats from tokens issued before it
    /// are honoured for the resume grace after it.
    boot_ms: u64,
    /// To the Redis bus, in the order the hub produced them.
    bus: Option<mpsc::UnboundedSender<BusCmd>>,
    /// To the media thread (SFU rooms), likewise.
    media: Option<mpsc::UnboundedSender<MediaCmd>>,
}

/// Unguessable: 128 bits from a CSPRNG seeded by the OS.
pub fn new_peer_id() -> PeerId {
    PeerId(format!("{:032x}", rand::random::<u128>()))
}

/// Closes a socket whose session a newer connection (here or on another
/// node) took over.
fn resumed_elsewhere() -> Kick {
    Kick {
        code: CLOSE_RESUMED_ELSEWHERE,
        reason: "this session continues on a newer connection".into(),
        flush: false,
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Node {
    pub fn new(config: HubConfig) -> Self {
        Node {
            inner: Mutex::new(Inner::new(Hub::with_config(config))),
            bus: OnceLock::new(),
            guesses: Mutex::default(),
            hashing: Hashing::default(),
        }
    }

    /// Shares this node's rooms with other nodes through `bus`, whose other
    /// end (see `cluster`) carries the commands out and calls back in.
    /// `node_id` names this node there.
    pub fn attach_bus(&self, bus: mpsc::UnboundedSender<BusCmd>, node_id: u64) {
        let _ = self.bus.set(bus.clone());
        let mut inner = self.lock();
        inner.hub.set_clustered();
        inner.bus = Some(bus);
        inner.node_id = Some(node_id);
    }

    /// Signs resume tokens with `tokens` (by default a key of this
    /// process's own) and keeps a dropped session `grace_ms` (0: none).
    pub fn set_resume(&self, tokens: Tokens, grace_ms: u64) {
        let mut inner = self.lock();
        inner.tokens = tokens;
        inner.sessions = Sessions::new(grace_ms);
    }

    /// Carries SFU commands to the media thread from now on.
    pub fn attach_media(&self, media: mpsc::UnboundedSender<MediaCmd>) {
        self.lock().media = Some(media);
    }

    /// A message from the media thread for this node's connections.
    pub fn deliver_media(&self, event: MediaEvent) {
        let deliveries = vec![Delivery::many(event.to, event.msg)];
        self.lock().deliver(Output { deliveries, ..Output::default() });
    }

    /// Tells a member here that their chat never reached the other nodes.
    pub fn not_delivered(&self, to: &PeerId) {
        self.reply_error(to, ErrorCode::NotDelivered, crate::held::NotDelivered.to_string());
    }

    pub fn apply_remote(&self, from_node: &str, event: ClusterEvent) {
        let mut inner = self.lock();
        if let ClusterEvent::HandoverAsk { id, generation, ask } = event {
            inner.hand_over(&id, generation, from_node, ask);
            return;
        }
        let out = inner.hub.apply(from_node, event);
        inner.deliver(out);
    }

    pub fn reconcile(&self, room: &str, placed: Vec<Placed>) {
        let mut inner = self.lock();
        let out = inner.hub.reconcile(room, placed, now_ms());
        inner.deliver(out);
    }

    /// A first look at a room: its members and stored settings at once.
    pub fn reconcile_with(&self, room: &str, placed: Vec<Placed>, settings: Option<ClusterEvent>) {
        let mut inner = self.lock();
        let out = inner.hub.reconcile(room, placed, now_ms());
        inner.deliver(out);
        if let Some(settings @ ClusterEvent::Settings { .. }) = settings {
            let out = inner.hub.apply("", settings);
            inner.deliver(out);
        }
    }

    pub fn set_room_count(&self, room: &str, count: u32) {
        self.lock().hub.set_room_count(room, count);
    }

    pub fn set_room_flags(&self, room: &str, passcode: bool, locked: bool) {
        self.lock().hub.set_room_flags(room, passcode, locked);
    }

    pub fn set_room_counts(&self, counts: HashMap<String, u32>) {
        self.lock().hub.set_room_counts(counts);
    }

    pub fn room_settings(&self) -> Vec<crate::hub::ClusterEvent> {
        self.lock().hub.room_settings()
    }

    pub fn local_members(&self) -> Vec<(String, app::protocol::Member, u64)> {
        self.lock().hub.local_members()
    }

    pub fn replicated_rooms(&self) -> Vec<String> {
        self.lock().hub.replicated_rooms()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere must not take every later connection down with it.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A session another node handed over (see [`Hub::adopt`]): ours now,
    /// parked until its page's socket takes it, which it may never do.
    pub fn adopt(&self, session: Handed) {
        let now = now_ms();
        let mut inner = self.lock();
        if inner.sessions.generation(&session.id).is_some() {
            return;
        }
        // Queues what comes for it meanwhile, as a parked session's does.
        let (outbox, _) = outbox_pair();
        inner.outboxes.insert(session.id.clone(), outbox);
        inner.sessions.adopt(&session.id, session.generation, now, None);
        let out = inner.hub.adopt(session);
        inner.deliver(out);
    }

    /// Starts mirroring `room` (and waits until its members are in), unless
    /// this node does already; nothing on a single node.
    pub async fn mirror(&self, room: &str) {
        if !self.is_clustered() || self.lock().hub.is_replicated(room) {
            return;
        }
        if app::rules::validate_room(room).is_ok() {
            let room = room.to_owned();
            self.ask(|done| BusCmd::Mirror { room, done }).await;
        }
    }

    /// A new socket, with the token its page was given last time, if any.
    /// Returns the peer it speaks for: the session the token resumes, or a
    /// new one (told why the token was refused).
    pub async fn connect(&self, outbox: Outbox, resume: Option<&str>) -> PeerId {
        let refused = match resume {
            Some(token) => self.fetch(token).await,
            None => None,
        };
        self.connect_now(outbox, resume, refused)
    }

    /// A token another node issued, for a session this node does not
    /// hold: that node is asked to hand the session over, and this node
    /// then holds it, parked. Says why not when that node refused, or did
    /// not answer (it may still hold the session: no one else may take it).
    async fn fetch(&self, token: &str) -> Option<ResumeError> {
        self.bus.get()?;
        let (node, id, generation) = {
            let inner = self.lock();
            let claim = inner.tokens.check(token, now_ms() / 1000).ok()?;
            let theirs = claim.node.filter(|n| Some(*n) != inner.node_id)?;
            if !inner.sessions.enabled() || inner.sessions.generation(&claim.id).is_some() {
                return None;
            }
            (format!("{theirs:016x}"), claim.id, claim.generation)
        };
        match self.ask(|reply| BusCmd::Handover { node, id, generation, reply }).await {
            // Taken on, or its node is gone: the token now resumes here.
            Some(Handover::Adopted | Handover::NoSuchNode) => None,
            Some(Handover::Refused(err)) => Some(err),
            None => Some(ResumeError::Elsewhere),
        }
    }

    fn connect_now(&self, outbox: Outbox, resume: Option<&str>, refused: Option<ResumeError>) -> PeerId {
        let now = now_ms();
        let mut inner = self.lock();
        let taken = resume.filter(|_| inner.sessions.enabled()).map(|token| {
            if let Some(err) = refused {
                return Err(err);
            }
            inner.tokens.check(token, now / 1000).and_then(|claim| {
                let known = inner.hub.knows(&claim.id);
                inner.sessions.take(&claim, known).map(|(how, generation)| (claim, how, generation))
            })
        });
        match taken {
            Some(Ok((Claim { id, .. }, Taken::Held, generation))) => {
                inner.take_over(&id, outbox, generation, now);
                crate::metrics::resumed(true);
                tracing::debug!(peer = %id, "resumed");
                id
            }
            Some(Ok((Claim { id, seat, .. }, Taken::Restored, generation))) => {
                inner.start(&id, outbox, generation, now);
                // Sat in a room before this process started, which it did
                // moments ago: the room is being rebuilt from who comes back.
                let grace = inner.sessions.grace_ms();
                if let Some(seat) =
                    seat.filter(|s| s.since_ms < inner.boot_ms && now <= inner.boot_ms + grace)
                {
                    let until = inner.boot_ms + grace;
                    inner.hub.claim_seat(&id, seat, until);
                }
                crate::metrics::resumed(false);
                tracing::debug!(peer = %id, "restored after a restart");
                id
            }
            refused => {
                let id = new_peer_id();
                let generation = inner.sessions.start(&id);
                inner.start(&id, outbox, generation, now);
                if let Some(Err(err)) = refused {
                    tracing::debug!(peer = %id, %err, "resume refused");
                    inner.refuse_resume(&id, err);
                }
                id
            }
        }
    }

    /// The socket behind `inbox` ended; `lost` when it just died (no close
    /// from either side), so that its page may come back to the session,
    /// which then holds `slot`. A socket whose session a newer one took
    /// over changes nothing.
    pub fn disconnect(&self, id: &PeerId, inbox: &Inbox, lost: bool, slot: Slot) {
        let now = now_ms();
        let mut inner = self.lock();
        if !inner.speaks_for(id, inbox) {
            return;
        }
        // A stopping node's pages come back through the others, which ask
        // it for their sessions.
        let moving = inner.stopping && inner.bus.is_some();
        if (lost || moving) && inner.sessions.enabled() && inner.hub.has_nickname(id) {
            tracing::debug!(peer = %id, "parked");
            inner.sessions.park(id, now, Some(slot));
            return;
        }
        inner.end_session(id);
    }

    /// Whether the connection behind `inbox` still speaks for `id`: not
    /// once its session ended or another connection resumed it.
    pub fn speaks_for(&self, id: &PeerId, inbox: &Inbox) -> bool {
        self.lock().speaks_for(id, inbox)
    }

    /// One text frame from a client at address `client`. Decoding happens
    /// outside the lock. Returns why it was refused, if it was.
    pub async fn receive(&self, from: &PeerId, text: &str, client: IpAddr) -> Option<ErrorCode> {
        let arrived = std::time::Instant::now();
        let refused = self.receive_decoded(from, text, client).await;
        crate::metrics::relayed(arrived.elapsed());
        if let Some(code) = refused {
            crate::metrics::error(code);
        }
        refused
    }

    async fn receive_decoded(&self, from: &PeerId, text: &str, client: IpAddr) -> Option<ErrorCode> {
        match protocol::decode_client(text) {
            Ok(msg) => {
                crate::metrics::message_in(&msg);
                // Joining a room this node does not mirror yet: learn who is
                // in it on other nodes first, so the join lists them.
                // Redis not answering must not hang this socket; the hub
                // then refuses rooms it knows live elsewhere.
                if let ClientMsg::Join { room, .. } = &msg {
                    self.mirror(room).await;
                }
                match msg {
                    // A room name the hub would refuse never reaches the
                    // guess count, the hash or Redis (a key of its own).
                    ClientMsg::Join { room, passcode: Some(passcode) }
                        if !passcode.is_empty() && app::rules::validate_room(&room).is_ok() =>
                    {
                        self.join_with_passcode(from, room, passcode, client).await
                    }
                    msg => self.handle(from, msg),
                }
            }
            Err(err) => {
                tracing::debug!(peer = %from, %err, "rejected input");
                self.reply_error(from, err.code(), err.to_string());
                Some(err.code())
            }
        }
    }

    pub fn handle(&self, from: &PeerId, msg: ClientMsg) -> Option<ErrorCode> {
        let now = now_ms();
        let moves = matches!(msg, ClientMsg::Join { .. } | ClientMsg::Leave);
        let locks = matches!(msg, ClientMsg::LockRoom { .. });
        // Sent out of the room: the seat in the token it has must go.
        let removed = match &msg {
            ClientMsg::RemovePeer { id } => Some(id.clone()),
            _ => None,
        };
        let mut inner = self.lock();
        let out = inner.hub.handle(from, msg, now);
        let refused = inner.answer(from, out);
        if moves && refused.is_none() {
            inner.renew_seat(from, now);
        }
        // Everyone's token says whether the room is locked, so that
        // whoever is first back after a restart locks it again.
        if locks && refused.is_none() {
            for id in inner.hub.roommates(from) {
                inner.renew_seat(&id, now);
            }
        }
        if let Some(id) = removed.filter(|_| refused.is_none()) {
            inner.renew_seat(&id, now);
        }
        refused
    }

    /// A join with a passcode: slowed down for an address that keeps
    /// guessing wrong for this room, and hashed outside the hub's lock.
    async fn join_with_passcode(
        &self,
        from: &PeerId,
        room: String,
        passcode: String,
        client: IpAddr,
    ) -> Option<ErrorCode> {
        let asked = room.clone();
        if let Some(Some(known)) = self.ask(|reply| BusCmd::Guesses { room: asked, client, reply }).await {
            self.lock_guesses().merge(&room, client, known);
        }
        // Until it proves right, this try counts as a wrong one, here and
        // (shared before the slow hash) on every node: tries sent in
        // parallel cannot all pass the check before any is counted.
        let counted = self.lock_guesses().try_guess(&room, client, now_ms());
        let guessed = match counted {
            Ok(guessed) => guessed,
            Err(wait) => {
                let secs = wait.as_secs_f64().ceil() as u64;
                let message = format!("too many wrong passcodes for this room: try again in {secs} s");
                self.reply_error(from, ErrorCode::TooManyGuesses, message);
                return Some(ErrorCode::TooManyGuesses);
            }
        };
        let shared = room.clone();
        self.ask(|done| BusCmd::RecordGuess { room: shared, client, guessed, done }).await;
        let stored = self.lock().hub.passcode_of(&room);
        let prepared = {
            let _turn = self.hashing.0.acquire().await.ok()?;
            let given = passcode.clone();
            tokio::task::spawn_blocking(move || Prepared::new(stored, &given)).await.ok()?
        };
        let refused = {
            let mut inner = self.lock();
            let now = now_ms();
            let out = inner.hub.join_prepared(from, &room, Some(&passcode), &prepared, now);
            let refused = out.refused.clone();
            inner.answer(from, out);
            if refused.is_none() {
                inner.renew_seat(from, now);
            }
            refused
        };
        match refused {
            None => {
                self.lock_guesses().forgive(&room, client);
                self.tell(BusCmd::ForgiveGuesses { room, client });
                None
            }
            // The passcode was right; only the room was full.
            Some(err) if err.passed_passcode() => {
                self.lock_guesses().forgive(&room, client);
                self.tell(BusCmd::ForgiveGuesses { room, client });
                Some(err.code())
            }
            Some(HubError::WrongPasscode) => {
                tracing::info!(%room, %client, wrong = guessed.wrong, "wrong passcode");
                Some(ErrorCode::WrongPasscode)
            }
            // Refused for something else (the room is full, say): this try
            // says nothing about the passcode.
            Some(err) => {
                let left = self.lock_guesses().retract(&room, client);
                match left {
                    Some(guessed) if guessed.wrong > 0 => {
                        self.ask(|done| BusCmd::RecordGuess { room, client, guessed, done }).await;
                    }
                    _ => self.tell(BusCmd::ForgiveGuesses { room, client }),
                }
                Some(err.code())
            }
        }
    }

    /// Asks the other nodes and waits for the answer, at most
    /// `REPLICATE_TIMEOUT`; `None` on a single node or without an answer.
    async fn ask<T>(&self, command: impl FnOnce(oneshot::Sender<T>) -> BusCmd) -> Option<T> {
        let bus = self.bus.get()?;
        let (reply, answer) = oneshot::channel();
        bus.send(command(reply)).ok()?;
        tokio::time::timeout(REPLICATE_TIMEOUT, answer).await.ok()?.ok()
    }

    /// Tells the other nodes, expecting no answer.
    fn tell(&self, command: BusCmd) {
        if let Some(bus) = self.bus.get() {
            let _ = bus.send(command);
        }
    }

    fn lock_guesses(&self) -> MutexGuard<'_, Guesses> {
        self.guesses.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn has_nickname(&self, id: &PeerId) -> bool {
        self.lock().hub.has_nickname(id)
    }

    pub fn reply_error(&self, to: &PeerId, code: ErrorCode, message: String) {
        self.send_one(to, ServerMsg::Error { code, message });
    }

    /// One message for one connection of this node, outside any hub input.
    fn send_one(&self, to: &PeerId, msg: ServerMsg) {
        self.lock().send_one(to, msg);
    }

    /// Asks the connection to close with `kick`; it then ends and
    /// disconnects itself.
    pub fn kick(&self, id: &PeerId, kick: Kick) {
        if let Some(outbox) = self.lock().outboxes.get(id) {
            outbox.kick(kick);
        }
    }

    /// Sends the coalesced room-list update, if any; called on a timer.
    pub fn flush_lobby(&self) {
        let mut inner = self.lock();
        if let Some(update) = inner.hub.flush_lobby() {
            inner.deliver(Output { deliveries: vec![update], ..Output::default() });
        }
    }

    /// Time-driven room changes (see [`crate::hub::Hub::tick`]), and the
    /// parked sessions whose page did not come back in time.
    pub fn tick(&self) {
        let now = now_ms();
        let mut inner = self.lock();
        for id in inner.sessions.expire(now) {
            tracing::debug!(peer = %id, "a parked session expired");
            inner.end_session(&id);
        }
        let out = inner.hub.tick(now);
        if !out.is_empty() {
            inner.deliver(out);
        }
    }

    /// Tells every connection the server is going away, then closes it
    /// (the close follows the message; see the connection in `ws`).
    pub fn shut_down(&self) {
        let mut inner = self.lock();
        inner.stopping = true;
        let text = Utf8Bytes::from(protocol::encode(&ServerMsg::Restarting));
        for outbox in inner.outboxes.values() {
            let _ = outbox.push(text.clone());
            outbox.kick(Kick { code: CLOSE_RESTARTING, reason: "server restarting".into(), flush: true });
        }
    }

    /// Whether other nodes share this one's rooms (Redis scale-out).
    pub fn is_clustered(&self) -> bool {
        self.bus.get().is_some()
    }

    /// Ends every session still waiting for its page: a stopping node's
    /// last word, so that their rooms see them leave now rather than when
    /// the node's heartbeat runs out.
    pub fn end_parked(&self) {
        let mut inner = self.lock();
        for id in inner.sessions.expire(u64::MAX) {
            inner.end_session(&id);
        }
    }

    /// Sockets this process holds (people in other nodes' rooms and
    /// sessions waiting for their page excluded).
    pub fn connection_count(&self) -> usize {
        let inner = self.lock();
        inner.outboxes.len() - inner.sessions.parked_count()
    }

    /// Sessions whose socket dropped, waiting for their page.
    pub fn parked_count(&self) -> usize {
        self.lock().sessions.parked_count()
    }

    pub fn peer_count(&self) -> usize {
        self.lock().hub.peer_count()
    }

    pub fn room_count(&self) -> usize {
        self.lock().hub.room_count()
    }
}

impl Inner {
    /// Whether `inbox` is the connection `id` is served by now.
    fn speaks_for(&self, id: &PeerId, inbox: &Inbox) -> bool {
        self.outboxes.get(id).is_some_and(|outbox| outbox.feeds(inbox))
    }

    fn new(hub: Hub) -> Self {
        Inner {
            hub,
            outboxes: PeerMap::default(),
            tokens: Tokens::random(),
            sessions: Sessions::new(RESUME_GRACE_MS),
            node_id: None,
            stopping: false,
            boot_ms: now_ms(),
            bus: None,
            media: None,
        }
    }

    fn token(&self, id: &PeerId, generation: u32, now_ms: u64) -> Option<String> {
        let claim = Claim { id: id.clone(), generation, node: self.node_id, seat: self.hub.seat_of(id) };
        self.sessions.enabled().then(|| self.tokens.issue(&claim, now_ms / 1000)).flatten()
    }

    /// A session on a new socket, new or restored after a restart.
    fn start(&mut self, id: &PeerId, outbox: Outbox, generation: u32, now_ms: u64) {
        self.outboxes.insert(id.clone(), outbox);
        let token = self.token(id, generation, now_ms);
        let out = self.hub.connect(id, now_ms, token);
        self.deliver(out);
    }

    /// A session this node holds moves to a new socket. The old socket, if
    /// it is still open, closes; what was queued for it follows the
    /// welcome, and the room as it is now comes after that.
    fn take_over(&mut self, id: &PeerId, outbox: Outbox, generation: u32, now_ms: u64) {
        let backlog = match self.outboxes.insert(id.clone(), outbox) {
            Some(old) => {
                old.kick(resumed_elsewhere());
                old.take_queued()
            }
            None => VecDeque::new(),
        };
        let token = self.token(id, generation, now_ms);
        let mut out = self.hub.resume(id, now_ms, token);
        let welcome = out.deliveries.remove(0);
        self.deliver(Output { deliveries: vec![welcome], ..Output::default() });
        if let Some(outbox) = self.outboxes.get(id) {
            for text in backlog {
                // A full queue loses its newest: the room's state follows.
                let _ = outbox.push(text);
            }
        }
        self.deliver(out);
    }

    /// Another node's socket brought `id`'s token of `generation`: the
    /// session goes there if that is its newest token. A socket of ours
    /// that still looks open closes, as when a newer socket here resumes.
    fn hand_over(&mut self, id: &PeerId, generation: u32, to: &str, ask: u64) {
        let refused = match self.sessions.generation(id) {
            Some(newest) if newest == generation => None,
            Some(_) => Some(false),
            None => Some(true),
        };
        if let Some(ended) = refused {
            let answer =
                Outgoing { node: Some(to.to_owned()), event: ClusterEvent::HandoverRefused { ask, ended } };
            self.deliver(Output { publish: vec![answer], ..Output::default() });
            return;
        }
        if let Some(old) = self.outboxes.remove(id) {
            old.kick(resumed_elsewhere());
        }
        self.sessions.forget(id);
        tracing::debug!(peer = %id, node = %to, "handed over");
        let out = self.hub.hand_over(id, generation, to, ask);
        self.deliver(out);
    }

    fn refuse_resume(&mut self, id: &PeerId, err: ResumeError) {
        self.send_one(id, ServerMsg::Error { code: ErrorCode::ResumeRefused, message: err.to_string() });
    }

    /// One message for one connection, outside any hub input.
    fn send_one(&mut self, to: &PeerId, msg: ServerMsg) {
        self.deliver(Output { deliveries: vec![Delivery::one(to, msg)], ..Output::default() });
    }

    /// The session is over: its people see it leave.
    fn end_session(&mut self, id: &PeerId) {
        self.outboxes.remove(id);
        self.sessions.forget(id);
        let out = self.hub.disconnect(id);
        self.deliver(out);
    }

    /// Carries out what a request produced; returns why it was refused.
    fn answer(&mut self, from: &PeerId, out: Output) -> Option<ErrorCode> {
        let refused = out.refused.as_ref().map(|err| {
            tracing::debug!(peer = %from, %err, "refused request");
            err.code()
        });
        self.deliver(out);
        refused
    }

    /// After `id` entered or left a room: a token that says where it sits
    /// now (`token` adds the seat), so that a restart keeps its place and
    /// a host stays host.
    fn renew_seat(&mut self, id: &PeerId, now_ms: u64) {
        let Some(generation) = self.sessions.generation(id) else { return };
        if let Some(resume) = self.token(id, generation, now_ms) {
            self.send_one(id, ServerMsg::ResumeToken { resume });
        }
    }

    /// Carries out one hub output: its messages to this node's sockets, its
    /// events and releases to the Redis bus, in the order produced.
    fn deliver(&mut self, out: Output) {
        let mut pending = VecDeque::from([out]);
        while let Some(out) = pending.pop_front() {
            if let Some(bus) = &self.bus {
                for event in out.publish {
                    let _ = bus.send(BusCmd::Publish(event));
                }
                for room in out.released {
                    let _ = bus.send(BusCmd::Release(room));
                }
            }
            if let Some(media) = &self.media {
                for cmd in out.media {
                    let _ = media.send(cmd);
                }
            }
            // Dropping a slow peer tells its room it left, which may in turn
            // overflow someone else: go on until nothing more is produced.
            for id in self.queue(out.deliveries) {
                if let Some(outbox) = self.outboxes.remove(&id) {
                    self.sessions.forget(&id);
                    tracing::info!(peer = %id, "disconnecting a client whose outbox is full");
                    outbox.kick(Kick {
                        code: CLOSE_TOO_SLOW,
                        reason: "connection too slow".into(),
                        flush: false,
                    });
                    pending.push_back(self.hub.disconnect(&id));
                }
            }
        }
    }

    /// Queues each message (encoded once) for its recipients here; returns
    /// those whose outbox was full.
    fn queue(&mut self, deliveries: Vec<Delivery>) -> Vec<PeerId> {
        let mut too_slow = Vec::new();
        for delivery in deliveries {
            let text = Utf8Bytes::from(protocol::encode(&delivery.msg));
            let mut queued = 0;
            for id in delivery.to.ids() {
                let Some(outbox) = self.outboxes.get(id) else {
                    continue;
                };
                queued += 1;
                if outbox.push(text.clone()).is_err() {
                    too_slow.push(id.clone());
                }
            }
            crate::metrics::messages_out(queued);
        }
        too_slow
    }
}
