//! `xorpay`: the command line of xorpay-rs.
//!
//! - `sign`, `verify`: XorPay's signature checker, offline (the library's own signing and
//!   notification checks, so the two never disagree).
//! - `doctor`: checks a configuration and the notify URL it names, and says how to fix each
//!   fault.
//! - `query2`: asks XorPay (or a sandbox) where an order stands.
//! - `sandbox`, `trigger`, `deliveries`, `resend`: runs the local XorPay and drives it.
//!
//! Secrets come from `XORPAY_APP_SECRET` or `--secret-file`, never from an argument
//! (arguments show in `ps` and in shell history). An error is one line on stderr that says
//! what to do; the exit status is 0 on success, 1 on a failure or a negative answer (a
//! notification that does not verify, a doctor's fault), 2 on a usage error.

mod admin;
mod doctor;
mod failure;
mod query;
mod sandbox;
mod secret;
mod sign;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::failure::Failure;

/// The xorpay-rs command line: XorPay's signature checker offline, a configuration doctor,
/// queries, and the local XorPay sandbox driven from the terminal.
#[derive(Parser)]
#[command(
    name = "xorpay",
    version,
    propagate_version = true,
    after_help = "Examples:\n  \
      xorpay sign --explain --pay-type native --name 会员月卡 --price 19.90 \\\n    \
      --order-id order-1 --notify-url https://shop.example.com/xorpay/notify\n  \
      xorpay doctor\n  \
      xorpay sandbox --aid 1000\n\n\
      The app secret is read from XORPAY_APP_SECRET or --secret-file, never from an argument."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Sign(sign::Args),
    Verify(verify::Args),
    Doctor(doctor::Args),
    Query2(query::Args),
    Sandbox(sandbox::Args),
    Trigger(admin::TriggerArgs),
    Deliveries(admin::DeliveriesArgs),
    Resend(admin::ResendArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run(cli.command)),
        Err(error) => Err(Failure::new(format!("cannot start the runtime: {error}"))),
    };
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("xorpay: {failure}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<ExitCode, Failure> {
    match command {
        Command::Sign(args) => sign::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Doctor(args) => doctor::run(&args).await,
        Command::Query2(args) => query::run(&args).await,
        Command::Sandbox(args) => sandbox::run(args).await,
        Command::Trigger(args) => admin::trigger(&args).await,
        Command::Deliveries(args) => admin::deliveries(&args).await,
        Command::Resend(args) => admin::resend(&args).await,
    }
}
