use clap::Parser;

#[tokio::main]
async fn main() {
    let report = loadgen::run(loadgen::Args::parse()).await;
    loadgen::print_human(&report);
    println!("RESULT {}", serde_json::to_string(&report).expect("serializable"));
}
