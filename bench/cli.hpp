#pragma once

namespace poolbench::bench {

/// The `poolbench` command line: parses, runs one subcommand, and turns every error into
/// one line on stderr. Exit codes: 0 success, 1 a run failed, 2 bad input.
int run_cli(int argc, char** argv);

}  // namespace poolbench::bench
