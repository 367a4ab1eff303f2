//! `bluetick-relay`: runs the relay (see `bluetick_relay::cli` and docs/relay.md).

fn main() -> std::process::ExitCode {
    bluetick_relay::cli::main_with_args(std::env::args().skip(1))
}
