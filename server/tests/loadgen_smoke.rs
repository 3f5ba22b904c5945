//! Keeps the load generator from rotting: a few hundred connections for a
//! couple of seconds against the real server. Checks that it runs and
//! counts, not how fast anything is (that is docs/BENCHMARKS.md's job).

mod support;

use clap::Parser;
use support::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_generator_runs_and_reports() {
    // Every connection comes from 127.0.0.1 here.
    let server = Server::start_with(&["--max-conns-per-ip", "0"]).await;
    let pid = server.pid().to_string();
    let url = server.ws_url();
    let args = loadgen::Args::parse_from([
        "loadgen",
        "--url",
        &url,
        "--conns",
        "300",
        "--room-size",
        "3",
        "--rate",
        "300",
        "--duration",
        "2",
        "--server-pid",
        &pid,
    ]);
    let report = loadgen::run(args).await;
    assert_eq!(report.joined, 300, "{report:?}");
    assert_eq!(report.failed, 0, "{report:?}");
    assert!(report.errors.is_empty(), "{report:?}");
    assert!(report.latency_samples > 100, "{report:?}");
    assert!(report.delivered_per_sec > 0.0, "{report:?}");
    assert!(report.rss_kib_joined.unwrap_or(0) > 0, "{report:?}");
}

/// The same for the SFU's load generator: one room of three publishing and
/// receiving through the real server's media engine for a couple of seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sfu_load_generator_runs_and_reports() {
    let server = Server::start_with(&["--media-mode", "sfu"]).await;
    let pid = server.pid().to_string();
    let url = server.ws_url();
    let args = loadgen::sfu::Args::parse_from([
        "sfu_load",
        "--url",
        &url,
        "--rooms",
        "1",
        "--room-size",
        "3",
        "--warmup",
        "0.5",
        "--duration",
        "2",
        "--server-pid",
        &pid,
    ]);
    let r = loadgen::sfu::run(args).await;
    assert_eq!((r.joined, r.ready, r.broken), (3, 3, 0), "{r:?}");
    assert!(r.errors.is_empty(), "{r:?}");
    // Each of three receives two others' audio and video: 12 tracks.
    assert_eq!(r.forwarded_tracks, Some(12.0), "{r:?}");
    assert!(r.server_frames_per_sec.is_some_and(|f| f > 0.0), "{r:?}");
    assert!(r.received_packets_per_sec > 0.0 && r.received_frames_per_sec > 0.0, "{r:?}");
    assert!(r.latency_samples > 100, "{r:?}");
    assert!(r.media_thread_cpu.is_some_and(|c| c > 0.0), "{r:?}");
    assert!(r.rss_kib_ready.unwrap_or(0) > 0, "{r:?}");
}
