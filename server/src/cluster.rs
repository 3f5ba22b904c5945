//! Rooms shared across server processes through Redis (the Redis bus).
//!
//! Redis holds who is where (`noom:members:{room}`: peer → member and node;
//! `noom:peers:{node}`: peer → room; `noom:rooms`: room → count) and carries
//! events: `noom:room:{room}` for a room's events, `noom:inbox:{node}` for
//! signals to one node's peers, `noom:lobby` for room counts. A node
//! subscribes only to the rooms its own members are in, its inbox and the
//! lobby. Nodes heartbeat (`noom:node:{id}`, short TTL); any node that sees a
//! heartbeat expire takes that node's members out of their rooms. If Redis
//! goes away every node keeps serving its own users, and when it is back
//! each node registers its members again and reconciles its rooms.

use crate::bus::{BusCmd, Handover};
use crate::held::{sender_to_tell, Held};
use crate::hub::{ClusterEvent, Handed, Outgoing, Placed};
use crate::limits::{Guessed, GUESS_MEMORY};
use crate::node::Node;
use crate::resume::ResumeError;
use app::protocol::PeerId;
use futures::StreamExt;
use redis::aio::{MultiplexedConnection, PubSubSink};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Mutex, Notify, RwLock};

/// A node whose heartbeat is older than this is dead.
const NODE_TTL_MS: u64 = 5_000;
const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// After Redis comes back, every node is subscribed again within its
/// backoff; what was held for them waits that long, or it would reach
/// only the nodes that happened to reconnect first.
const SETTLE: Duration = Duration::from_secs(6);
/// After a failed send of held events, the next try waits this long.
const RETRY_HELD: Duration = Duration::from_millis(500);
/// Most events in one pipeline to Redis.
const BATCH: usize = 256;
/// Taking a node's members out for a missed heartbeat waits as long after
/// a reconnect: the nodes that are alive heartbeat again by then.
const REAP_AFTER: Duration = Duration::from_secs(2 * NODE_TTL_MS / 1000);

#[derive(Serialize, Deserialize)]
struct Envelope {
    node: String,
    event: ClusterEvent,
}

/// What `noom:lobby` carries: what every node's lobby needs to know of
/// rooms it may not mirror.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum LobbyMsg {
    Count {
        room: String,
        count: u32,
    },
    /// Whether a room needs a passcode or is locked.
    Flags {
        room: String,
        passcode: bool,
        locked: bool,
    },
}

impl LobbyMsg {
    fn encode(&self) -> String {
        serde_json::to_string(self).expect("serializable")
    }
}

/// room → flags ("p", "l", "pl" or ""), beside the counts in `noom:rooms`.
const FLAGS: &str = "noom:room-flags";

fn flags_value(passcode: bool, locked: bool) -> String {
    format!("{}{}", if passcode { "p" } else { "" }, if locked { "l" } else { "" })
}

fn members_key(room: &str) -> String {
    format!("noom:members:{room}")
}
fn peers_key(node: &str) -> String {
    format!("noom:peers:{node}")
}
/// A room's passcode digest and lock, for nodes that start mirroring it later.
fn settings_key(room: &str) -> String {
    format!("noom:settings:{room}")
}
/// Wrong passcodes for a room from one address: fields `wrong`, `last`.
fn guesses_key(room: &str, client: IpAddr) -> String {
    format!("noom:guesses:{room}:{client}")
}
fn room_channel(room: &str) -> String {
    format!("noom:room:{room}")
}
fn inbox(node: &str) -> String {
    format!("noom:inbox:{node}")
}
fn heartbeat_key(node: &str) -> String {
    format!("noom:node:{node}")
}

/// An event as published, stamped with the node it speaks for.
fn envelope(node: &str, event: ClusterEvent) -> String {
    serde_json::to_string(&Envelope { node: node.to_owned(), event }).expect("serializable")
}

/// Everyone in `room`, as Redis records them.
async fn members_of(conn: &mut MultiplexedConnection, room: &str) -> Res<Vec<Placed>> {
    let raw: HashMap<String, String> = redis::cmd("HGETALL").arg(members_key(room)).query_async(conn).await?;
    Ok(raw.values().filter_map(|v| serde_json::from_str(v).ok()).collect())
}
const ROOMS: &str = "noom:rooms";
const NODES: &str = "noom:nodes";
const LOBBY: &str = "noom:lobby";

pub struct Cluster {
    pub node_id: String,
    client: redis::Client,
    node: Weak<Node>,
    conn: RwLock<Option<MultiplexedConnection>>,
    sink: Mutex<Option<PubSubSink>>,
    online: AtomicBool,
    /// While online: what waits since the last (re)connect, and how long.
    since: std::sync::Mutex<Option<Online>>,
    /// Wakes the publisher when Redis is back.
    back: Notify,
    /// Sockets here waiting for another node to hand a session over, by
    /// the number of their question.
    asks: std::sync::Mutex<HashMap<u64, oneshot::Sender<Handover>>>,
    next_ask: AtomicU64,
}

/// Set at each connect to Redis. After a reconnect, other nodes need a
/// moment to come back too: held events wait for them, and so does
/// taking out the members of a node whose heartbeat is missing.
#[derive(Clone, Copy)]
struct Online {
    send_from: Instant,
    reap_from: Instant,
}

type Res<T> = redis::RedisResult<T>;

impl Cluster {
    /// Joins the cluster behind `redis_url`. Never fails for Redis being
    /// down: the node serves its own users and keeps trying.
    pub fn start(redis_url: &str, node: &Arc<Node>) -> Result<Arc<Cluster>, redis::RedisError> {
        let client = redis::Client::open(redis_url)?;
        let id = rand::random::<u64>();
        let (tx, rx) = mpsc::unbounded_channel();
        let cluster = Arc::new(Cluster {
            node_id: format!("{id:016x}"),
            client,
            node: Arc::downgrade(node),
            conn: RwLock::new(None),
            sink: Mutex::new(None),
            online: AtomicBool::new(false),
            since: std::sync::Mutex::new(None),
            back: Notify::new(),
            asks: std::sync::Mutex::default(),
            next_ask: AtomicU64::new(0),
        });
        // The node holds the only senders: the publisher stops with it.
        node.attach_bus(tx, id);
        tokio::spawn(cluster.clone().publisher(rx));
        tokio::spawn(cluster.clone().supervise());
        tokio::spawn(cluster.clone().tick());
        tracing::info!(node = %cluster.node_id, "joining the cluster through Redis");
        Ok(cluster)
    }

    pub fn is_online(&self) -> bool {
        self.online.load(Ordering::Relaxed)
    }

    async fn conn(&self) -> Option<MultiplexedConnection> {
        self.conn.read().await.clone()
    }

    /// What the cluster knows of `client`'s wrong passcodes for `room`.
    async fn guesses(&self, room: &str, client: IpAddr) -> Option<Guessed> {
        let mut conn = self.conn().await?;
        let (wrong, last): (Option<u32>, Option<u64>) = redis::cmd("HMGET")
            .arg(guesses_key(room, client))
            .arg("wrong")
            .arg("last")
            .query_async(&mut conn)
            .await
            .ok()?;
        Some(Guessed { wrong: wrong?, last_ms: last.unwrap_or(0) })
    }

    /// Stores a wrong passcode for every node to see.
    async fn record_guess(&self, room: &str, client: IpAddr, guessed: Guessed) {
        let key = guesses_key(room, client);
        let Some(mut conn) = self.conn().await else { return };
        let stored: Res<()> = redis::pipe()
            .atomic()
            .cmd("HSET")
            .arg(&key)
            .arg("wrong")
            .arg(guessed.wrong)
            .arg("last")
            .arg(guessed.last_ms)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(GUESS_MEMORY.as_millis() as u64)
            .ignore()
            .query_async(&mut conn)
            .await;
        if let Err(err) = stored {
            tracing::debug!(%err, "could not share a wrong passcode");
        }
    }

    async fn forgive_guesses(&self, room: &str, client: IpAddr) {
        if let Some(mut conn) = self.conn().await {
            let _: Res<()> = redis::cmd("DEL").arg(guesses_key(room, client)).query_async(&mut conn).await;
        }
    }

    /// Before a local member joins a room we do not mirror yet: subscribed
    /// (by the publisher, in queue order), read who is in it, so that no
    /// event falls between.
    async fn load_replica(&self, room: &str) {
        let (Some(mut conn), Some(node)) = (self.conn().await, self.node.upgrade()) else { return };
        // Members and settings together: a replica must never be visible
        // (to a join on another socket) without its passcode and lock.
        let Ok(stored) =
            redis::cmd("GET").arg(settings_key(room)).query_async::<Option<String>>(&mut conn).await
        else {
            return;
        };
        let settings = stored.and_then(|s| serde_json::from_str::<ClusterEvent>(&s).ok());
        if let Ok(placed) = members_of(&mut conn, room).await {
            node.reconcile_with(room, placed, settings);
        }
    }

    fn online(&self) -> Option<Online> {
        *self.since.lock().expect("not poisoned")
    }

    /// Carries out the node's commands in order. Subscriptions and writes
    /// happen here, in queue order; questions for Redis (and the loading of
    /// a replica) run beside it, so one slow answer never holds the queue.
    /// Events for other nodes go through [`Held`]: while Redis is out of
    /// reach they wait there, and go out in order once it is back.
    async fn publisher(self: Arc<Self>, mut rx: mpsc::UnboundedReceiver<BusCmd>) {
        let mut held = Held::default();
        // After a failed send, not before this: Redis is likely gone again.
        let mut retry_at = Instant::now();
        loop {
            let send_from = self.online().filter(|_| !held.is_empty()).map(|o| o.send_from.max(retry_at));
            let cmd = tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => Some(cmd),
                    None => return,
                },
                () = self.back.notified() => None,
                () = sleep_until(send_from) => None,
            };
            // Events already queued behind this one go out with it, in one
            // pipeline: a round trip each bounded what crossed nodes.
            let mut cmd = cmd;
            let mut taken = 0;
            while let Some(BusCmd::Publish(out)) = cmd {
                let dropped = held.hold(Instant::now(), out);
                self.tell_not_delivered(&dropped);
                taken += 1;
                cmd = if taken < BATCH { rx.try_recv().ok() } else { None };
            }
            // What was held was queued before `cmd`.
            if !self.send_held(&mut held).await {
                retry_at = Instant::now() + RETRY_HELD;
            }
            let Some(cmd) = cmd else { continue };
            if self.conn().await.is_none() {
                continue;
            }
            let result = match cmd {
                BusCmd::Publish(_) => unreachable!("held above"),
                BusCmd::Release(room) => match self.sink.lock().await.as_mut() {
                    Some(sink) => sink.unsubscribe(room_channel(&room)).await,
                    None => Ok(()),
                },
                BusCmd::Mirror { room, done } => {
                    let subscribed = self.is_online()
                        && match self.sink.lock().await.as_mut() {
                            Some(sink) => sink.subscribe(room_channel(&room)).await.is_ok(),
                            None => false,
                        };
                    if subscribed {
                        let cluster = self.clone();
                        tokio::spawn(async move {
                            cluster.load_replica(&room).await;
                            let _ = done.send(());
                        });
                    }
                    Ok(())
                }
                BusCmd::Guesses { room, client, reply } => {
                    let cluster = self.clone();
                    tokio::spawn(async move {
                        let _ = reply.send(cluster.guesses(&room, client).await);
                    });
                    Ok(())
                }
                // Writes, so in queue order: a count forgiven by a right
                // passcode must be gone before a later try reads it.
                BusCmd::RecordGuess { room, client, guessed, done } => {
                    self.record_guess(&room, client, guessed).await;
                    let _ = done.send(());
                    Ok(())
                }
                BusCmd::ForgiveGuesses { room, client } => {
                    self.forgive_guesses(&room, client).await;
                    Ok(())
                }
                BusCmd::Handover { node, id, generation, reply } => {
                    self.ask_handover(&node, id, generation, reply).await;
                    Ok(())
                }
            };
            if let Err(err) = result {
                tracing::debug!(%err, "Redis write failed; the next reconcile repairs it");
            }
        }
    }

    /// Asks `node` for a session; the answer comes to our inbox. A node
    /// that no longer listens has stopped, and its sessions with it.
    async fn ask_handover(&self, node: &str, id: PeerId, generation: u32, reply: oneshot::Sender<Handover>) {
        let Some(mut conn) = self.conn().await else { return };
        let ask = self.next_ask.fetch_add(1, Ordering::Relaxed);
        {
            let mut asks = self.asks.lock().expect("not poisoned");
            // Sockets that stopped waiting (timed out, or closed).
            asks.retain(|_, waiting| !waiting.is_closed());
            asks.insert(ask, reply);
        }
        let event = ClusterEvent::HandoverAsk { id, generation, ask };
        let heard: Res<u32> = redis::cmd("PUBLISH")
            .arg(inbox(node))
            .arg(envelope(&self.node_id, event))
            .query_async(&mut conn)
            .await;
        if matches!(heard, Ok(0)) {
            self.answer(ask, Handover::NoSuchNode);
        }
    }

    fn answer(&self, ask: u64, handover: Handover) {
        if let Some(waiting) = self.asks.lock().expect("not poisoned").remove(&ask) {
            let _ = waiting.send(handover);
        }
    }

    /// A session handed over to us: its room mirrored first, so that it
    /// takes its place among the members there. Taken on even if its
    /// socket stopped waiting: the session then waits for its page here.
    async fn adopt(self: Arc<Self>, ask: u64, session: Handed) {
        let Some(node) = self.node.upgrade() else { return };
        if let Some(room) = &session.room {
            node.mirror(room).await;
        }
        node.adopt(session);
        self.answer(ask, Handover::Adopted);
    }

    /// Sends what is held, oldest first and `BATCH` to a pipeline, once
    /// Redis is back and settled; stops at the first failure (Redis gone
    /// again) with that batch kept, and says `false` then.
    async fn send_held(&self, held: &mut Held) -> bool {
        let ready = self.online().is_some_and(|o| Instant::now() >= o.send_from);
        let Some(mut conn) = self.conn().await.filter(|_| ready) else { return true };
        let mut dropped = Vec::new();
        let mut sent_all = true;
        loop {
            let mut batch = Vec::new();
            while batch.len() < BATCH {
                let Some(next) = held.next(Instant::now(), &mut dropped) else { break };
                batch.push(next);
            }
            if batch.is_empty() {
                break;
            }
            if let Err(err) = self.publish_all(&mut conn, batch.iter().map(|(_, out)| out)).await {
                if err.is_io_error() || err.is_connection_dropped() || err.is_timeout() {
                    for (at, out) in batch.into_iter().rev() {
                        held.put_back(at, out);
                    }
                    sent_all = false;
                    break;
                }
                tracing::debug!(%err, "Redis refused a write; the next reconcile repairs it");
            }
        }
        self.tell_not_delivered(&dropped);
        sent_all
    }

    /// Chats that never reached the other nodes: their senders hear so.
    fn tell_not_delivered(&self, dropped: &[Outgoing]) {
        if dropped.is_empty() {
            return;
        }
        tracing::warn!(events = dropped.len(), "Redis out of reach too long: events for other nodes dropped");
        let Some(node) = self.node.upgrade() else { return };
        for peer in dropped.iter().filter_map(sender_to_tell) {
            node.not_delivered(peer);
        }
    }

    /// Events in order, in one pipeline; then the counts of the rooms whose
    /// membership changed.
    async fn publish_all(
        &self,
        conn: &mut MultiplexedConnection,
        events: impl Iterator<Item = &Outgoing>,
    ) -> Res<()> {
        let mut pipe = redis::pipe();
        let mut recount: Vec<String> = Vec::new();
        let mut any = false;
        // Neither for a node nor for a room: nowhere to go.
        for out in events.filter(|out| out.node.is_some() || out.event.room().is_some()) {
            any = true;
            if let Some(room) = self.add_publish(&mut pipe, out) {
                if !recount.contains(&room) {
                    recount.push(room);
                }
            }
        }
        if !any {
            return Ok(());
        }
        pipe.query_async::<()>(conn).await?;
        for room in recount {
            update_count(conn, &room).await?;
        }
        Ok(())
    }

    /// Adds what publishing `out` takes to `pipe`; the room whose count it
    /// changes, if any.
    fn add_publish(&self, pipe: &mut redis::Pipeline, out: &Outgoing) -> Option<String> {
        let envelope = envelope(&self.node_id, out.event.clone());
        if let Some(node) = &out.node {
            // Out of the record before the new node hears of it, so that
            // its entry, written next, is not the one removed. The room's
            // count is left alone: to the lobby the member never left.
            if let ClusterEvent::HandedOver { session: Handed { id, room: Some(room), .. }, .. } = &out.event
            {
                pipe.hdel(members_key(room), &id.0).ignore().hdel(peers_key(&self.node_id), &id.0).ignore();
            }
            pipe.publish(inbox(node), envelope).ignore();
            return None;
        }
        let room = out.event.room()?.to_owned();
        match &out.event {
            ClusterEvent::Joined { member, since, .. } | ClusterEvent::Updated { member, since, .. } => {
                let placed = Placed { member: member.clone(), node: self.node_id.clone(), since: *since };
                pipe.hset(
                    members_key(&room),
                    &member.id.0,
                    serde_json::to_string(&placed).expect("serializable"),
                )
                .ignore()
                .hset(peers_key(&self.node_id), &member.id.0, &room)
                .ignore();
            }
            ClusterEvent::Left { member, .. } => {
                pipe.hdel(members_key(&room), &member.id.0)
                    .ignore()
                    .hdel(peers_key(&self.node_id), &member.id.0)
                    .ignore();
            }
            ClusterEvent::Settings { passcode, locked, .. } => {
                let stored = serde_json::to_string(&out.event).expect("serializable");
                let flags =
                    LobbyMsg::Flags { room: room.clone(), passcode: passcode.is_some(), locked: *locked };
                pipe.set(settings_key(&room), stored)
                    .ignore()
                    .hset(FLAGS, &room, flags_value(passcode.is_some(), *locked))
                    .ignore()
                    .publish(LOBBY, flags.encode())
                    .ignore();
            }
            _ => {}
        }
        pipe.publish(room_channel(&room), envelope).ignore();
        matches!(out.event, ClusterEvent::Joined { .. } | ClusterEvent::Left { .. }).then_some(room)
    }

    /// Keeps a subscription open, reconnecting with backoff; each time it
    /// (re)connects, registers our members again and reconciles our rooms.
    async fn supervise(self: Arc<Self>) {
        let mut backoff = Duration::from_millis(250);
        let mut warned = false;
        let mut was_online = false;
        loop {
            match self.connect().await {
                Ok(mut stream) => {
                    backoff = Duration::from_millis(250);
                    warned = false;
                    self.online.store(true, Ordering::Relaxed);
                    tracing::info!("connected to Redis");
                    if let Err(err) = self.resync().await {
                        tracing::warn!(%err, "resync with Redis failed; retrying on the next reconcile");
                    }
                    let at = Instant::now();
                    let online = if was_online {
                        Online { send_from: at + SETTLE, reap_from: at + REAP_AFTER }
                    } else {
                        Online { send_from: at, reap_from: at }
                    };
                    was_online = true;
                    *self.since.lock().expect("not poisoned") = Some(online);
                    self.back.notify_one();
                    while let Some(msg) = stream.next().await {
                        self.on_message(msg);
                    }
                    *self.since.lock().expect("not poisoned") = None;
                    self.online.store(false, Ordering::Relaxed);
                    *self.conn.write().await = None;
                    *self.sink.lock().await = None;
                    tracing::warn!("lost Redis: serving this node's users only until it is back");
                }
                Err(err) => {
                    if !warned {
                        tracing::warn!(%err, "cannot reach Redis: serving this node's users only; retrying");
                        warned = true;
                    }
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    async fn connect(&self) -> Res<redis::aio::PubSubStream> {
        let conn = self.client.get_multiplexed_async_connection().await?;
        let (mut sink, stream) = self.client.get_async_pubsub().await?.split();
        sink.subscribe(LOBBY).await?;
        sink.subscribe(inbox(&self.node_id)).await?;
        if let Some(node) = self.node.upgrade() {
            for room in node.replicated_rooms() {
                sink.subscribe(room_channel(&room)).await?;
            }
        }
        *self.conn.write().await = Some(conn);
        *self.sink.lock().await = Some(sink);
        Ok(stream)
    }

    fn on_message(self: &Arc<Self>, msg: redis::Msg) {
        let Some(node) = self.node.upgrade() else { return };
        let Ok(payload) = msg.get_payload::<String>() else { return };
        if msg.get_channel_name() == LOBBY {
            match serde_json::from_str::<LobbyMsg>(&payload) {
                Ok(LobbyMsg::Count { room, count }) => node.set_room_count(&room, count),
                Ok(LobbyMsg::Flags { room, passcode, locked }) => {
                    node.set_room_flags(&room, passcode, locked)
                }
                Err(err) => tracing::debug!(%err, "unreadable lobby message"),
            }
            return;
        }
        match serde_json::from_str::<Envelope>(&payload) {
            Ok(Envelope { event: ClusterEvent::HandedOver { ask, session }, .. }) => {
                tokio::spawn(self.clone().adopt(ask, session));
            }
            Ok(Envelope { event: ClusterEvent::HandoverRefused { ask, ended }, .. }) => {
                let err = if ended { ResumeError::Ended } else { ResumeError::Used };
                self.answer(ask, Handover::Refused(err));
            }
            Ok(envelope) if envelope.node != self.node_id => {
                node.apply_remote(&envelope.node, envelope.event)
            }
            Ok(_) => {}
            Err(err) => tracing::debug!(%err, "unreadable cluster message"),
        }
    }

    /// After (re)connecting: Redis may have lost everything (a restart), or
    /// others may have taken our members out while we were cut off.
    async fn resync(&self) -> Res<()> {
        let Some(node) = self.node.upgrade() else { return Ok(()) };
        let Some(mut conn) = self.conn().await else { return Ok(()) };
        self.heartbeat(&mut conn).await?;
        redis::cmd("DEL").arg(peers_key(&self.node_id)).query_async::<()>(&mut conn).await?;
        let joined: Vec<Outgoing> = node
            .local_members()
            .into_iter()
            .map(|(room, member, since)| Outgoing {
                node: None,
                event: ClusterEvent::Joined { room, member, since },
            })
            .collect();
        for batch in joined.chunks(BATCH) {
            self.publish_all(&mut conn, batch.iter()).await?;
        }
        // Only where Redis lost them: a lock set elsewhere while we were
        // cut off must not be undone by our older copy.
        for event in node.room_settings() {
            if let ClusterEvent::Settings { room, passcode, locked, .. } = &event {
                let stored = serde_json::to_string(&event).expect("serializable");
                redis::pipe()
                    .cmd("SET")
                    .arg(settings_key(room))
                    .arg(stored)
                    .arg("NX")
                    .ignore()
                    .hset_nx(FLAGS, room, flags_value(passcode.is_some(), *locked))
                    .ignore()
                    .query_async::<()>(&mut conn)
                    .await?;
            }
        }
        self.reconcile_all(&mut conn, &node).await
    }

    async fn reconcile_all(&self, conn: &mut MultiplexedConnection, node: &Node) -> Res<()> {
        for room in node.replicated_rooms() {
            node.reconcile(&room, members_of(conn, &room).await?);
        }
        let counts: HashMap<String, u32> = redis::cmd("HGETALL").arg(ROOMS).query_async(conn).await?;
        node.set_room_counts(counts);
        let flags: HashMap<String, String> = redis::cmd("HGETALL").arg(FLAGS).query_async(conn).await?;
        for (room, flags) in flags {
            node.set_room_flags(&room, flags.contains('p'), flags.contains('l'));
        }
        Ok(())
    }

    async fn heartbeat(&self, conn: &mut MultiplexedConnection) -> Res<()> {
        redis::pipe()
            .cmd("SET")
            .arg(heartbeat_key(&self.node_id))
            .arg(1)
            .arg("PX")
            .arg(NODE_TTL_MS)
            .ignore()
            .sadd(NODES, &self.node_id)
            .ignore()
            .query_async(conn)
            .await
    }

    /// Heartbeat every second; every other second take dead nodes' members
    /// out; every few seconds reconcile (repairs anything an outage lost).
    async fn tick(self: Arc<Self>) {
        let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            n += 1;
            if !self.is_online() {
                continue;
            }
            let (Some(mut conn), Some(node)) = (self.conn().await, self.node.upgrade()) else { continue };
            let result = async {
                self.heartbeat(&mut conn).await?;
                let settled = self.online().is_some_and(|o| Instant::now() >= o.reap_from);
                if n.is_multiple_of(2) && settled {
                    self.reap(&mut conn).await?;
                }
                if n.is_multiple_of(3) {
                    self.reconcile_all(&mut conn, &node).await?;
                }
                Res::Ok(())
            }
            .await;
            if let Err(err) = result {
                tracing::debug!(%err, "cluster upkeep failed");
            }
        }
    }

    async fn reap(&self, conn: &mut MultiplexedConnection) -> Res<()> {
        let nodes: Vec<String> = redis::cmd("SMEMBERS").arg(NODES).query_async(conn).await?;
        for dead in nodes.into_iter().filter(|n| *n != self.node_id) {
            let alive: bool = redis::cmd("EXISTS").arg(heartbeat_key(&dead)).query_async(conn).await?;
            if alive {
                continue;
            }
            // SREM answers 1 to exactly one node: that one cleans up.
            let won: u32 = redis::cmd("SREM").arg(NODES).arg(&dead).query_async(conn).await?;
            if won == 0 {
                continue;
            }
            tracing::info!(node = %dead, "node stopped heartbeating; removing its members");
            let peers: HashMap<String, String> =
                redis::cmd("HGETALL").arg(peers_key(&dead)).query_async(conn).await?;
            for (peer, room) in peers {
                let raw: Option<String> =
                    redis::cmd("HGET").arg(members_key(&room)).arg(&peer).query_async(conn).await?;
                // A member whose session moved to a live node since stays.
                let Some(placed) =
                    raw.and_then(|r| serde_json::from_str::<Placed>(&r).ok()).filter(|p| p.node == dead)
                else {
                    continue;
                };
                let envelope =
                    envelope(&dead, ClusterEvent::Left { room: room.clone(), member: placed.member });
                redis::pipe()
                    .hdel(members_key(&room), &peer)
                    .ignore()
                    .publish(room_channel(&room), envelope)
                    .ignore()
                    .query_async::<()>(conn)
                    .await?;
                update_count(conn, &room).await?;
            }
            redis::cmd("DEL").arg(peers_key(&dead)).query_async::<()>(conn).await?;
        }
        Ok(())
    }
}

/// Never, for `None`.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Recounts a room from its member hash and tells every lobby.
async fn update_count(conn: &mut MultiplexedConnection, room: &str) -> Res<()> {
    let count: u32 = redis::cmd("HLEN").arg(members_key(room)).query_async(conn).await?;
    let mut pipe = redis::pipe();
    if count == 0 {
        pipe.hdel(ROOMS, room).ignore().hdel(FLAGS, room).ignore().del(settings_key(room)).ignore();
    } else {
        pipe.hset(ROOMS, room, count).ignore();
    }
    let msg = LobbyMsg::Count { room: room.to_owned(), count }.encode();
    pipe.publish(LOBBY, msg).ignore().query_async::<()>(conn).await
}

#[cfg(test)]
mod tests {
    use super::LobbyMsg;

    #[test]
    fn lobby_messages_are_tagged_and_round_trip() {
        let count = LobbyMsg::Count { room: "x".into(), count: 3 };
        assert_eq!(count.encode(), r#"{"kind":"count","room":"x","count":3}"#);
        let flags = LobbyMsg::Flags { room: "x".into(), passcode: true, locked: false };
        for msg in [count, flags] {
            assert_eq!(serde_json::from_str::<LobbyMsg>(&msg.encode()).unwrap(), msg);
        }
        // Untagged, a count could pass for flags or the reverse; now it is refused.
        assert!(serde_json::from_str::<LobbyMsg>(r#"{"room":"x","count":3}"#).is_err());
    }
}
