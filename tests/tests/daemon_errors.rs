//! Bad input to the real binaries: rvsd given a missing interface or a socket path that is
//! taken, rvsadm given an unknown scheduler or no daemon to talk to; and rvsd's clean stop,
//! which leaves no program attached, no pins and no socket behind.

use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rvs_e2e::bins::binary;
use rvs_e2e::cluster::DrCluster;
use rvs_e2e::listing::service_lines;
use rvs_e2e::root_or_skip;
use rvs_e2e::rvsd::{CONN_MAX, RVSADM_TIMEOUT, Run, lock_path, shell_code};
use rvs_e2e::solo::{SOLO_IF, Solo};
use rvs_lab::Host;

/// Runs rvsd in `host` to completion (it is expected to refuse to start).
fn rvsd_refused(host: &Host, interface: &str, socket: &Path, instance: &str) -> Run {
    let socket = socket.to_string_lossy().into_owned();
    let args = [
        "--interface",
        interface,
        "--socket",
        &socket,
        "--instance",
        instance,
        "--conn-max",
        CONN_MAX,
    ];
    let mut command = Command::new(binary("rvsd"));
    command.args(args);
    let out = host
        .run_command(command, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("rvsd did not exit by itself: {e}"));
    Run {
        code: shell_code(out.status),
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

#[test]
fn rvsd_with_a_missing_interface_exits_non_zero_naming_it() {
    if !root_or_skip("rvsd_with_a_missing_interface_exits_non_zero_naming_it") {
        return;
    }
    let solo = Solo::new();
    let run = rvsd_refused(&solo.host, "nosuch0", &solo.socket, &solo.instance());
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("nosuch0"), "{run:?}");
    assert!(!solo.socket.exists(), "a refused rvsd left its socket");
    let pins = Path::new(rvs_lab::BPF_PIN_ROOT).join(solo.instance());
    assert!(!pins.exists(), "a refused rvsd left {}", pins.display());
}

#[test]
fn a_second_rvsd_on_the_same_socket_is_refused_and_the_first_keeps_working() {
    if !root_or_skip("a_second_rvsd_on_the_same_socket_is_refused_and_the_first_keeps_working") {
        return;
    }
    let mut cluster = DrCluster::start();
    cluster.configure(&[
        "-A -t 192.168.0.100:80 -s rr",
        "-a -t 192.168.0.100:80 -r 192.168.0.11:80 -g",
        "-a -t 192.168.0.100:80 -r 192.168.0.22:80 -g",
    ]);
    let socket = cluster.rvsd.socket().to_owned();
    let instance = cluster.rvsd.instance().to_owned();
    let second = rvsd_refused(&cluster.seed.director.host, "eth0", &socket, &instance);
    assert_ne!(second.code, 0, "{second:?}");
    assert!(
        second.stderr.contains("already running")
            && second.stderr.contains(&*socket.to_string_lossy()),
        "the refusal should say another rvsd runs on {}: {second:?}",
        socket.display()
    );

    assert!(
        cluster.rvsd.is_running(),
        "the first rvsd died:\n{}",
        cluster.rvsd.log()
    );
    assert!(
        socket.exists(),
        "the refused rvsd removed the first one's socket"
    );
    let listing = cluster.listing();
    assert_eq!(
        service_lines(&listing),
        ["TCP  192.168.0.100:80 rr"],
        "{listing}"
    );
    assert_eq!(
        cluster.answers(4),
        ["webserver2", "webserver1", "webserver2", "webserver1"],
        "forwarding after the refused start"
    );
}

/// A second rvsd given the running one's instance name (its pin directory) but a socket of
/// its own must not touch the first one's maps: the instance is in use.
#[test]
fn a_second_rvsd_with_the_same_instance_is_refused_and_the_first_keeps_forwarding() {
    if !root_or_skip(
        "a_second_rvsd_with_the_same_instance_is_refused_and_the_first_keeps_forwarding",
    ) {
        return;
    }
    let mut cluster = DrCluster::start();
    cluster.configure(&[
        "-A -t 192.168.0.100:80 -s rr",
        "-a -t 192.168.0.100:80 -r 192.168.0.11:80 -g",
        "-a -t 192.168.0.100:80 -r 192.168.0.22:80 -g",
    ]);
    assert_eq!(cluster.answers(2), ["webserver2", "webserver1"], "before");
    let instance = cluster.rvsd.instance().to_owned();
    let other_socket = rvs_e2e::rvsd::socket_path(&format!("{}b", cluster.prefix()));
    let _remove = RemoveOnDrop(vec![other_socket.clone(), lock_path(&other_socket)]);
    let second = rvsd_refused(
        &cluster.seed.director.host,
        "eth0",
        &other_socket,
        &instance,
    );
    assert_ne!(second.code, 0, "{second:?}");

    assert!(
        cluster.rvsd.is_running(),
        "the first rvsd died:\n{}",
        cluster.rvsd.log()
    );
    assert!(
        cluster.rvsd.pin_dir().is_dir(),
        "the second rvsd removed the first one's pins"
    );
    assert_eq!(
        cluster.answers(4),
        ["webserver2", "webserver1", "webserver2", "webserver1"],
        "the first rvsd's forwarding after a second rvsd was started with its instance \
         {instance}; the second said:\n{}",
        second.stderr
    );
    assert!(
        second.stderr.contains(&instance),
        "the refusal should name the instance in use: {second:?}"
    );
}

#[test]
fn rvsd_refuses_a_socket_path_another_program_listens_on() {
    if !root_or_skip("rvsd_refuses_a_socket_path_another_program_listens_on") {
        return;
    }
    let solo = Solo::new();
    if let Some(dir) = solo.socket.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    }
    let listener = UnixListener::bind(&solo.socket).unwrap_or_else(|e| panic!("{e}"));
    let run = rvsd_refused(&solo.host, SOLO_IF, &solo.socket, &solo.instance());
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(&*solo.socket.to_string_lossy()) && run.stderr.contains("listening"),
        "the refusal should name the busy socket: {run:?}"
    );
    // The other program's socket is untouched.
    let client = UnixStream::connect(&solo.socket);
    assert!(
        client.is_ok(),
        "the listener's socket was taken away: {client:?}"
    );
    assert!(listener.accept().is_ok());
    let pins = Path::new(rvs_lab::BPF_PIN_ROOT).join(solo.instance());
    assert!(!pins.exists(), "a refused rvsd left {}", pins.display());
}

/// rvsd refused to start because another program listens on its socket path: it must leave
/// nothing beside that program's socket.
#[test]
fn a_refused_rvsd_leaves_no_lock_file_beside_a_busy_socket() {
    if !root_or_skip("a_refused_rvsd_leaves_no_lock_file_beside_a_busy_socket") {
        return;
    }
    let solo = Solo::new();
    if let Some(dir) = solo.socket.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    }
    let _listener = UnixListener::bind(&solo.socket).unwrap_or_else(|e| panic!("{e}"));
    let lock = lock_path(&solo.socket);
    assert!(!lock.exists());
    let run = rvsd_refused(&solo.host, SOLO_IF, &solo.socket, &solo.instance());
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        !lock.exists(),
        "the refused rvsd left {} beside the other program's socket",
        lock.display()
    );
}

#[test]
fn rvsadm_errors_and_a_clean_stop_of_rvsd() {
    if !root_or_skip("rvsadm_errors_and_a_clean_stop_of_rvsd") {
        return;
    }
    let solo = Solo::new();
    let mut rvsd = solo.start_rvsd(&[]);
    let pins = rvsd.pin_dir();
    assert!(pins.is_dir(), "rvsd pins its maps in {}", pins.display());
    let attached = solo
        .host
        .ip(&["link", "show", "dev", SOLO_IF])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        attached.contains("prog/xdp"),
        "no XDP program on {SOLO_IF}:\n{attached}"
    );

    // ipvsadm's text and exit status for a scheduler the kernel does not have.
    let run = rvsd.rvsadm(&["-A", "-t", "192.168.0.100:81", "-s", "nosuch"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (255, "", "Scheduler or persistence engine not found\n"),
        "rvsadm -A with scheduler nosuch"
    );
    assert!(service_lines(&rvsd.rvsadm_ok(&["-Ln"])).is_empty());

    // SIGTERM: exit status 0, program detached, pins and socket gone.
    let status = rvsd.stop().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        status.code(),
        Some(0),
        "rvsd on SIGTERM: {status}; log:\n{}",
        rvsd.log()
    );
    assert!(!pins.exists(), "{} left behind", pins.display());
    assert!(
        !solo.socket.exists(),
        "{} left behind",
        solo.socket.display()
    );
    assert!(
        !lock_path(&solo.socket).exists(),
        "the socket's lock file left behind"
    );
    let detached = solo
        .host
        .ip(&["link", "show", "dev", SOLO_IF])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !detached.contains("prog/xdp"),
        "XDP still attached after the stop:\n{detached}"
    );

    // rvsadm with no rvsd to talk to.
    let mut command = Command::new(binary("rvsadm"));
    command.arg("-Ln").env("RVS_SOCKET", &solo.socket);
    let out = solo
        .host
        .run_command(command, RVSADM_TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.success(), "rvsadm -Ln without rvsd: {out:?}");
    assert!(
        out.stderr.contains("rvsd") && out.stderr.contains(&*solo.socket.to_string_lossy()),
        "the message should say rvsd is not running on {}: {:?}",
        solo.socket.display(),
        out.stderr
    );
}

/// Removes files when dropped.
struct RemoveOnDrop(Vec<std::path::PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}
