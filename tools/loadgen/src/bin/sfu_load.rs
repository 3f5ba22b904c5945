//! The SFU load generator; see `loadgen::sfu`.

use clap::Parser;

// One thread: pinned beside a server pinned to the other core, the
// generator's share of the machine is one core, as the server's is.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let report = loadgen::sfu::run(loadgen::sfu::Args::parse()).await;
    loadgen::sfu::print_human(&report);
    println!("RESULT {}", serde_json::to_string(&report).expect("serializable"));
}
