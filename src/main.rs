//! The `debrief` binary: parse the command line and hand over to [`debrief::cli`].

use clap::Parser;

// A page allocates and frees many small strings; mimalloc does that with
// less time in the allocator than glibc's, and (its version 2, see
// Cargo.toml) gives the memory of a burst back soon after (bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = debrief::cli::Cli::parse();
    match debrief::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
