//! Notify scripts (`notify_up`, `notify_down`, `quorum_up`, `quorum_down`): run without a shell,
//! as keepalived runs them, never waited for by the checks; their exit is logged.

use std::time::Duration;

use rvs_core::config::Script;

/// How long a notify script may run before it is killed.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts `script` for `event` (a few words for the log) and returns at once, with the task
/// that waits for it (dropping the handle does not stop the script).
pub fn spawn(script: &Script, event: String) -> Option<tokio::task::JoinHandle<()>> {
    let (program, args) = script.argv.split_first()?;
    let mut command = tokio::process::Command::new(program);
    command.args(args).stdin(std::process::Stdio::null()).kill_on_drop(true);
    let line = script.to_string();
    match command.spawn() {
        Ok(mut child) => Some(tokio::spawn(async move {
                match tokio::time::timeout(SCRIPT_TIMEOUT, child.wait()).await {
                    Ok(Ok(status)) if status.success() => tracing::debug!(script = %line, event, "notify script done"),
                    Ok(Ok(status)) => tracing::warn!(script = %line, event, %status, "notify script failed"),
                    Ok(Err(e)) => tracing::warn!(script = %line, event, error = %e, "notify script could not be waited for"),
                    Err(_) => tracing::warn!(script = %line, event, "notify script killed after {}s", SCRIPT_TIMEOUT.as_secs()),
                }
            })),
        Err(e) => {
            tracing::warn!(script = %line, event, error = %e, "notify script could not be started");
            None
        }
    }
}
