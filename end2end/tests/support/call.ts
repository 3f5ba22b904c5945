import { Browser, BrowserContext, expect, Page } from '@playwright/test';
import { joinFromPreJoin, openPreJoin } from './pages';

/**
 * Records every RTCPeerConnection the page creates and every track
 * getUserMedia hands out, independently of the app's own bookkeeping.
 */
export async function installProbes(context: BrowserContext, camera: Camera = 'small') {
  await context.addInitScript((small: boolean) => {
    const w = window as any;
    // A 640x360 webcam: whatever size the app asks for, it gets at most
    // that. In SFU rooms the app asks for 1280x720 (three simulcast
    // layers), and three of those encoders would need a core each here.
    if (small) {
      const cap = (video: any) => ({
        ...video,
        width: { ...(typeof video?.width === 'object' ? video.width : {}), max: 640 },
        height: { ...(typeof video?.height === 'object' ? video.height : {}), max: 360 },
      });
      const gumSmall = MediaDevices.prototype.getUserMedia;
      MediaDevices.prototype.getUserMedia = function (this: MediaDevices, constraints?: MediaStreamConstraints) {
        const video = constraints?.video;
        const capped = video ? cap(typeof video === 'object' ? video : {}) : video;
        return gumSmall.call(this, { ...constraints, video: capped });
      };
      const apply = MediaStreamTrack.prototype.applyConstraints;
      MediaStreamTrack.prototype.applyConstraints = function (this: MediaStreamTrack, c?: MediaTrackConstraints) {
        return apply.call(this, this.kind === 'video' ? cap(c ?? {}) : c);
      };
      // And it says so, as a real one does.
      const capabilities = MediaStreamTrack.prototype.getCapabilities;
      MediaStreamTrack.prototype.getCapabilities = function (this: MediaStreamTrack) {
        const c: any = capabilities.call(this);
        if (this.kind !== 'video') return c;
        return { ...c, width: { ...c.width, max: 640 }, height: { ...c.height, max: 360 } };
      };
    }
    // Anything the page's Content-Security-Policy blocked.
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    w.__pcs = [];
    w.__tracks = [];
    const Original = w.RTCPeerConnection;
    const Probed = function (this: any, ...args: any[]) {
      const pc = new Original(...args);
      w.__pcs.push(pc);
      return pc;
    } as any;
    Probed.prototype = Original.prototype;
    w.RTCPeerConnection = Probed;
    w.__screens = [];
    const gdm = MediaDevices.prototype.getDisplayMedia;
    MediaDevices.prototype.getDisplayMedia = async function (this: MediaDevices, constraints?: any) {
      const stream = await gdm.call(this, constraints);
      w.__screens.push(...stream.getTracks());
      return stream;
    };
    const gum = MediaDevices.prototype.getUserMedia;
    MediaDevices.prototype.getUserMedia = async function (this: MediaDevices, constraints?: MediaStreamConstraints) {
      const stream = await gum.call(this, constraints);
      w.__tracks.push(...stream.getTracks());
      return stream;
    };
  }, camera === 'small');
}

/** The webcam a test person has: `small` (640x360, the default) or `hd`
 *  (the fake device's 1280x720, when the app asks for it). */
export type Camera = 'small' | 'hd';

/**
 * Replaces the microphone with a tone the test turns on and off
 * (`__voice(true)` speaks, `__voice(false)` is silence): Chromium's fake
 * microphone beeps alike in every page, so it cannot tell speakers apart.
 * Install after the probes, so that they still see the camera's track.
 */
export async function installVoice(context: BrowserContext) {
  await context.addInitScript(() => {
    const w = window as any;
    w.__gains = [];
    const loud = () => (w.__voiceOn ? 0.5 : 0);
    w.__voice = (on: boolean) => {
      w.__voiceOn = on;
      for (const gain of w.__gains) gain.gain.value = loud();
    };
    const gum = MediaDevices.prototype.getUserMedia;
    MediaDevices.prototype.getUserMedia = async function (this: MediaDevices, constraints?: MediaStreamConstraints) {
      const stream = await gum.call(this, constraints);
      if (!constraints?.audio) return stream;
      w.__voiceContext ??= new AudioContext();
      const ctx: AudioContext = w.__voiceContext;
      const tone = ctx.createOscillator();
      tone.frequency.value = 440;
      const gain = ctx.createGain();
      gain.gain.value = loud();
      w.__gains.push(gain);
      const out = ctx.createMediaStreamDestination();
      tone.connect(gain).connect(out);
      tone.start();
      for (const track of stream.getAudioTracks()) {
        stream.removeTrack(track);
        track.stop();
      }
      stream.addTrack(out.stream.getAudioTracks()[0]);
      return stream;
    };
  });
}

/**
 * Caps the camera at `fps` frames a second. Three Chromium pages encoding
 * two layers each at 20 fps fill both cores of a test machine, and their
 * renderers then skip frames at random (133–233 ms gaps with no layer
 * change, measured with requestVideoFrameCallback), which Chromium counts
 * as freezes. A test that asserts on `freezeCount` needs a calm machine,
 * not a faster one.
 */
export async function installCameraRate(context: BrowserContext, fps: number) {
  await context.addInitScript((fps: number) => {
    const gum = MediaDevices.prototype.getUserMedia;
    MediaDevices.prototype.getUserMedia = async function (this: MediaDevices, constraints?: MediaStreamConstraints) {
      const video = constraints?.video;
      const capped = video ? { ...(typeof video === 'object' ? video : {}), frameRate: { max: fps } } : video;
      return gum.call(this, { ...constraints, video: capped });
    };
    // A camera's new size must not bring back its full rate.
    const apply = MediaStreamTrack.prototype.applyConstraints;
    MediaStreamTrack.prototype.applyConstraints = function (this: MediaStreamTrack, c?: MediaTrackConstraints) {
      return apply.call(this, this.kind === 'video' ? { ...c, frameRate: { max: fps } } : c);
    };
  }, fps);
}

/** A fresh browser context (one person) with the probes installed, and its page. */
export async function probedPage(browser: Browser, viewport?: { width: number; height: number }, camera: Camera = 'small') {
  const context = await browser.newContext(viewport ? { viewport } : {});
  await installProbes(context, camera);
  return { context, page: await context.newPage() };
}

/** Lobby → room → pre-join (with the camera preview on) → in the call. */
export async function joinCall(page: Page, baseUrl: string, nickname: string, room: string, click = true) {
  await openPreJoin(page, baseUrl, nickname, room);
  await expect(page.getByTestId('local-video')).toBeVisible();
  if (click) await joinFromPreJoin(page);
}

export function tiles(page: Page) {
  return page.getByTestId('tile');
}

export function tileOf(page: Page, nickname: string) {
  return tiles(page).filter({ hasText: nickname });
}

/** The widest video `page` receives now (`inbound-rtp.frameWidth`). */
export async function widestVideo(page: Page): Promise<number> {
  return page.evaluate(async () => {
    let widest = 0;
    for (const pc of (window as any).__pcs as RTCPeerConnection[]) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((s: any) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') widest = Math.max(widest, s.frameWidth ?? 0);
      });
    }
    return widest;
  });
}

/** Sum over all live peer connections of an inbound-rtp statistic. */
export async function inbound(page: Page, kind: 'audio' | 'video', field: string): Promise<number> {
  return page.evaluate(
    async ([kind, field]) => {
      let total = 0;
      for (const pc of (window as any).__pcs as RTCPeerConnection[]) {
        if (pc.connectionState === 'closed') continue;
        const stats = await pc.getStats();
        stats.forEach((s: any) => {
          if (s.type === 'inbound-rtp' && s.kind === kind && typeof s[field] === 'number') total += s[field];
        });
      }
      return total;
    },
    [kind, field] as const,
  );
}

/** Waits until `field` grows by more than `by` (frames decoded, energy…). */
export async function expectGrowing(page: Page, kind: 'audio' | 'video', field: string, by = 0) {
  const start = await inbound(page, kind, field);
  await expect.poll(async () => (await inbound(page, kind, field)) - start, { timeout: 20_000 }).toBeGreaterThan(by);
}

/** Per open connection: the addresses of the selected candidate pair
 *  (`remotePort`: the remote end as `address:port`). */
export async function selectedPairs(page: Page, remotePort = false): Promise<{ local: string; remote: string }[]> {
  return (await selectedCandidates(page)).map(({ local, remote }) => {
    const address = remote.address ?? remote.ip;
    return { local: local.address ?? local.ip, remote: remotePort ? `${address}:${remote.port}` : address };
  });
}

/** How each connected peer connection's selected pair leaves this page:
 *  its local candidate's type and, for a relayed one, the protocol to TURN. */
export async function selectedRoutes(page: Page): Promise<{ type: string; via: string }[]> {
  return (await selectedCandidates(page)).map(({ local }) => ({
    type: local.candidateType,
    via: local.relayProtocol ?? '',
  }));
}

/** The transport (udp or tcp) of each connected peer connection's selected pair. */
export async function selectedProtocols(page: Page): Promise<string[]> {
  return (await selectedCandidates(page)).map(({ local }) => local.protocol);
}

/** The local and remote candidate stats of every connected peer connection's selected pair. */
async function selectedCandidates(page: Page): Promise<{ local: any; remote: any }[]> {
  return page.evaluate(async () => {
    const pairs: { local: any; remote: any }[] = [];
    for (const pc of (window as any).__pcs as RTCPeerConnection[]) {
      if (pc.connectionState !== 'connected') continue;
      const stats = await pc.getStats();
      const byId = new Map<string, any>();
      stats.forEach((s: any) => byId.set(s.id, s));
      stats.forEach((s: any) => {
        if (s.type !== 'transport' || !s.selectedCandidatePairId) return;
        const pair = byId.get(s.selectedCandidatePairId);
        pairs.push({ local: byId.get(pair.localCandidateId), remote: byId.get(pair.remoteCandidateId) });
      });
    }
    return pairs;
  });
}

export async function connectedPeerConnections(page: Page): Promise<number> {
  return page.evaluate(
    () => ((window as any).__pcs as RTCPeerConnection[]).filter((pc) => pc.connectionState === 'connected').length,
  );
}

/** How many received video streams are actually decoding frames. */
export async function decodingVideoStreams(page: Page): Promise<number> {
  return page.evaluate(async () => {
    let n = 0;
    for (const pc of (window as any).__pcs as RTCPeerConnection[]) {
      if (pc.connectionState !== 'connected') continue;
      (await pc.getStats()).forEach((s: any) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0) n += 1;
      });
    }
    return n;
  });
}

/**
 * From now on, samples every 100 ms each received video stream's
 * `framesDecoded` and the number of people in the people list, so a test
 * can later ask for the longest time any picture stood still and the
 * fewest people the list ever showed.
 */
/**
 * Alice (at `urls[0]`) and Bob (at `urls[1]`) in a call in `room`, video
 * flowing both ways, each page watching its call (`watchCall`). Says how
 * many peer connections each page had made by then.
 */
export async function watchedCallOfTwo(browser: Browser, urls: [string, string], room: string) {
  const people = [];
  for (const [name, url] of [['Alice', urls[0]], ['Bob', urls[1]]]) {
    const { context, page } = await probedPage(browser, { width: 1280, height: 800 });
    await joinCall(page, url, name, room);
    people.push({ context, page });
  }
  const pages = people.map((p) => p.page);
  for (const page of pages) await expect(page.locator('.tile[data-link="connected"]')).toHaveCount(1);
  for (const page of pages) await expectGrowing(page, 'video', 'framesDecoded', 10);
  const connections = await Promise.all(pages.map(peerConnectionsMade));
  for (const page of pages) await watchCall(page);
  return { alice: pages[0], bob: pages[1], connections, close: () => Promise.all(people.map((p) => p.context.close())) };
}

/** Every peer connection `page` has made, closed ones included. */
export async function peerConnectionsMade(page: Page): Promise<number> {
  return page.evaluate(() => (window as any).__pcs.length);
}

/**
 * A call of two that `watchedCallOfTwo` started went through whatever
 * happened since without a break: video still flowing, the same peer
 * connections as `connections`, no picture still for a second, and nobody
 * ever missing from the people list.
 */
export async function expectUnbroken(pages: Page[], connections: number[]) {
  for (const page of pages) await expectGrowing(page, 'video', 'framesDecoded', 10);
  expect(await Promise.all(pages.map(peerConnectionsMade))).toEqual(connections);
  for (const page of pages) {
    const seen = await watched(page);
    console.log(`longest picture pause ${seen.longestStallMs} ms`);
    expect(seen.streams).toBe(1);
    expect(seen.longestStallMs).toBeLessThan(1000);
    expect(seen.fewestPeople).toBe(2);
  }
}

export async function watchCall(page: Page) {
  await page.evaluate(() => {
    const w = window as any;
    const streams = new Map<string, { frames: number; since: number; seen: number }>();
    w.__watch = { longestStallMs: 0, fewestPeople: Infinity, streams };
    setInterval(async () => {
      const now = performance.now();
      const people = document.querySelectorAll('[data-testid="member-list"] .member-name').length;
      w.__watch.fewestPeople = Math.min(w.__watch.fewestPeople, people);
      for (const pc of w.__pcs as RTCPeerConnection[]) {
        if (pc.connectionState === 'closed') continue;
        (await pc.getStats()).forEach((s: any) => {
          if (s.type !== 'inbound-rtp' || s.kind !== 'video' || !s.framesDecoded) return;
          const key = `${w.__pcs.indexOf(pc)}:${s.id}`;
          const known = streams.get(key);
          if (!known) streams.set(key, { frames: s.framesDecoded, since: now, seen: now });
          else if (s.framesDecoded > known.frames) {
            w.__watch.longestStallMs = Math.max(w.__watch.longestStallMs, now - known.since);
            streams.set(key, { frames: s.framesDecoded, since: now, seen: now });
          } else known.seen = now;
        });
      }
    }, 100);
  });
}

/** What `watchCall` saw so far; a picture standing still now counts too. */
export async function watched(page: Page): Promise<{ longestStallMs: number; fewestPeople: number; streams: number }> {
  return page.evaluate(() => {
    const w = (window as any).__watch;
    const now = performance.now();
    let longest = w.longestStallMs;
    let live = 0;
    for (const s of w.streams.values()) {
      // A stream of a connection that closed is no longer sampled.
      if (now - s.seen > 1000) continue;
      live += 1;
      longest = Math.max(longest, now - s.since);
    }
    return { longestStallMs: Math.round(longest), fewestPeople: w.fewestPeople, streams: live };
  });
}

/**
 * What a page's call looks like from inside, for the message of a failed
 * media assertion: whether the page is visible, whether its camera gives
 * frames, and per connection what is sent, received and decoded.
 */
export async function mediaReport(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const w = window as any;
    const lines: string[] = [`visibility ${document.visibilityState}, focus ${document.hasFocus()}`];
    for (const t of w.__tracks as MediaStreamTrack[]) {
      const s = t.getSettings();
      const stats = (t as any).stats;
      const frames = stats ? ` delivered ${stats.deliveredFrames} discarded ${stats.discardedFrames} total ${stats.totalFrames}` : '';
      lines.push(`track ${t.kind} ${t.label} ${t.readyState} muted=${t.muted} enabled=${t.enabled} ${s.width}x${s.height}@${s.frameRate}${frames}`);
    }
    const local = document.querySelector<HTMLVideoElement>('[data-testid="local-video"]');
    if (local) lines.push(`local preview frames ${local.getVideoPlaybackQuality().totalVideoFrames}`);
    for (const [i, pc] of (w.__pcs as RTCPeerConnection[]).entries()) {
      if (pc.connectionState === 'closed') continue;
      const parts: string[] = [];
      (await pc.getStats()).forEach((s: any) => {
        if (s.kind !== 'video') return;
        if (s.type === 'outbound-rtp')
          parts.push(`out ${s.rid ?? ''} encoded ${s.framesEncoded} sent ${s.framesSent} limit ${s.qualityLimitationReason} pli ${s.pliCount}`);
        if (s.type === 'inbound-rtp')
          parts.push(`in ${s.trackIdentifier?.slice(0, 8)} pkts ${s.packetsReceived} recv ${s.framesReceived} decoded ${s.framesDecoded} keys ${s.keyFramesDecoded} pli ${s.pliCount}`);
      });
      lines.push(`pc ${i} ${pc.connectionState}: ${parts.join('; ')}`);
    }
    return lines.join('\n');
  });
}
