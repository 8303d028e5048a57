use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match admint::cli::Cli::try_parse() {
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
    rt.block_on(admint::cli::run(cli))
}
