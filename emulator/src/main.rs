//! The `nemo-emulator` binary: flags (see `--help`), logging to stderr, then serve.

#![forbid(unsafe_code)]

use clap::Parser;
use nemo_emulator::Config;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("nemo_emulator=info")),
        )
        .init();
    if let Err(e) = nemo_emulator::serve(config).await {
        eprintln!("nemo-emulator: {e}");
        std::process::exit(1);
    }
}
