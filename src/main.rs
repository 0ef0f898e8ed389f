//! The `ember` command line; everything lives in [`ember::cli`].

fn main() -> std::process::ExitCode {
    ember::cli::main()
}
