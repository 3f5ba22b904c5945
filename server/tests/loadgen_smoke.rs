//! Keeps the load generator from rotting: a few hundred connections for a
//! couple of seconds against the real server. Checks that it runs and
//! counts, not how fast anything is (that is docs/BENCHMARKS.md's job).

mod support;

use support::Server;

#[tokio::test]
async fn the_load_generator_runs_and_reports() {
    // Every connection comes from 127.0.0.1 here.
    let server = Server::start_with(&["--max-conns-per-ip", "0"]).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["--url", &server.ws_url(), "--conns", "300", "--room-size", "3"])
        .args(["--rate", "300", "--duration", "2", "--server-pid", &server.pid().to_string()])
        .output()
        .await
        .expect("loadgen runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let line = stdout.lines().find_map(|l| l.strip_prefix("RESULT ")).expect("a RESULT line");
    let report: serde_json::Value = serde_json::from_str(line).expect("JSON");
    assert_eq!(report["joined"], 300, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["errors"], serde_json::json!({}), "{report}");
    assert!(report["latency_samples"].as_u64().unwrap() > 100, "{report}");
    assert!(report["delivered_per_sec"].as_f64().unwrap() > 0.0, "{report}");
    assert!(report["rss_kib_joined"].as_u64().unwrap() > 0, "{report}");
}
