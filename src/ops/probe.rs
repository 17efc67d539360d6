//! Tests that measure something of the whole process (its resident memory, its threads, the one
//! global metrics recorder) cannot share it with the tests running beside them: they run the
//! test binary again with only themselves, in a process of their own, and read what it printed.

/// Runs the test `test` (its full path) alone in a new process of this test binary, with the
/// environment `configure` sets, and returns what it wrote on standard output; panics with both
/// outputs when it failed. libtest writes the test's name on the line where the test's own output
/// begins, so callers look for their marker inside lines, not at their start.
pub fn rerun_alone(test: &str, configure: impl FnOnce(&mut std::process::Command)) -> String {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child.args(["--exact", test, "--nocapture", "--test-threads=1"]);
    configure(&mut child);
    let out = child.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{test} in a process of its own failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
