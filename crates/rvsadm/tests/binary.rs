//! The `rvsadm` binary against a stand-in rvsd (a thread serving the control protocol with
//! `rvs_core::control::serve_line`), and without any daemon.

use rvs_core::control::serve_line;
use rvs_core::table::{IpvsTable, NoLiveData, StaticHost};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn socket_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rvsadm-bin-{}-{name}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Serves the control protocol on `path` until the test process ends.
fn fake_rvsd(path: &Path) {
    let _ = std::fs::remove_file(path);
    let listener = match UnixListener::bind(path) {
        Ok(l) => l,
        Err(e) => panic!("bind {}: {e}", path.display()),
    };
    std::thread::spawn(move || {
        let mut table = IpvsTable::new();
        let host = StaticHost::loopback_only();
        for stream in listener.incoming().flatten() {
            let Ok(read_half) = stream.try_clone() else {
                continue;
            };
            let mut writer = stream;
            for line in BufReader::new(read_half).lines() {
                let Ok(line) = line else { break };
                let (reply, _changes) =
                    serve_line(&mut table, &line, &host, &NoLiveData, &NoLiveData);
                if writer.write_all(reply.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
}

fn rvsadm(socket: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = match Command::new(env!("CARGO_BIN_EXE_rvsadm"))
        .args(args)
        .env("RVS_SOCKET", socket)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("spawn rvsadm: {e}"),
    };
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => panic!("wait rvsadm: {e}"),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn without_rvsd() {
    let sock = socket_dir("none").join("absent.sock");
    let o = rvsadm(&sock, &["-Ln"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert_eq!(
        text(&o.stderr),
        format!(
            "Can't initialize ipvs: rvsd is not running (cannot connect to {}: No such file or directory)\n\
             Are you sure that rvsd is running?\n",
            sock.display()
        )
    );
    let h = rvsadm(&sock, &["-h"], "");
    assert_eq!(h.status.code(), Some(0));
    assert!(text(&h.stdout).contains("--start-daemon {master|backup} [daemon-options]"));
    let v = rvsadm(&sock, &["--version"], "");
    assert_eq!(
        text(&v.stdout),
        "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n"
    );
}

#[test]
fn with_a_daemon() {
    let sock = socket_dir("up").join("rvsd.sock");
    fake_rvsd(&sock);
    let ok = rvsadm(&sock, &["-A", "-t", "10.0.0.1:80", "-s", "rr"], "");
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    let again = rvsadm(&sock, &["-A", "-t", "10.0.0.1:80", "-s", "rr"], "");
    assert_eq!(
        (again.status.code(), text(&again.stderr)),
        (Some(255), "Service already exists\n".into())
    );
    let r = rvsadm(&sock, &["-R"], "-a -t 10.0.0.1:80 -r 10.1.1.1 -m\n");
    assert_eq!(r.status.code(), Some(0));
    let list = rvsadm(&sock, &["-Sn"], "");
    assert_eq!(
        text(&list.stdout),
        "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.1.1:80 -m -w 1\n"
    );
    let t = rvsadm(&sock, &["-L", "--timeout"], "");
    assert_eq!(text(&t.stdout), "Timeout (tcp tcpfin udp): 900 120 300\n");
    // ipvsadm crashes on `-b ,`; so does rvsadm, with SIGSEGV
    let crash = rvsadm(&sock, &["-A", "-u", "10.0.0.1:53", "-b", ","], "");
    assert_eq!(crash.status.signal(), Some(11));
}
