use clap::Parser;
use server::Config;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let config = Config::parse();
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    // Logs go to stderr; stdout carries only the "listening" line.
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    server::run(config).await
}
