//! The entry point: parse the arguments, then hand over to a front end — the full-screen
//! UI when no command is given, the headless CLI otherwise.

use clap::Parser;
use std::process::ExitCode;

use admint::app_env::{AppEnv, EXIT_OK};
use admint::cli::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("admint: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result: Result<(), (u8, String)> = rt.block_on(async {
        match cli.command {
            None => {
                let env = AppEnv::open().map_err(|e| (admint::app_env::EXIT_USAGE, e.to_string()))?;
                let opts = admint::tui::TuiOptions { no_images: cli.no_images };
                admint::tui::run(env, opts).await.map_err(|e| (e.exit_code(), e.to_string()))
            }
            Some(command) => admint::cli::run(command).await.map_err(|e| (e.code, e.message)),
        }
    });
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err((code, message)) => {
            eprintln!("admint: {}", admint::text::for_terminal(&message, true));
            ExitCode::from(code)
        }
    }
}
