//! Seed 002 with its backup LVS router: two directors, each running rvsd with a keepalived.conf
//! whose VRRP instance floats the VIP (and in NAT the real servers' gateway, `nat_router`) to
//! the master, and whose `lvs_sync_daemon` copies the master's connections to the backup.
//!
//! The demo is the seed's test ("将第一台LVS Router关闭 … 备份LVS Router已经成为primary并提供服务
//! … 再将已经关闭的第一台LVS Router开启,那么他将再次成为主LVS Router"): a long download and a
//! loop of short requests through the VIP, the primary's rvsd stopped midway, the backup
//! taking over (timed), the download finishing with every byte, then the primary restarted
//! and taking the VIP back.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use rvs_lab::Host;
use rvs_lab::http::DEFAULT_STREAM_RATE;
use rvs_lab::topology::seed002::NAT_ROUTER;
use rvs_lab::topology::seed002_ha_conf as ha_config;
use rvs_lab::topology::{Director, HaMode, Seed002Ha};

use super::{LabPaths, daemons};
use crate::tools::rvsadm;

/// How long VRRP may take to elect a master (at an advert interval of 0.1 s it takes 0.4 s).
const ELECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `rvs lab up ha` waits for a master before saying who holds the VIP.
const UP_WAIT: Duration = Duration::from_secs(3);
/// How often the directors' addresses are looked at while waiting for VRRP.
const POLL: Duration = Duration::from_millis(10);
/// The long download's length.
const STREAM_SECS: u64 = 12;
/// When the primary is stopped, after the download starts.
const STOP_AFTER: Duration = Duration::from_secs(3);
/// The pause between two short requests.
const REQUEST_GAP: Duration = Duration::from_millis(100);
/// A short request that takes longer than this has failed.
const REQUEST_TIMEOUT_SECS: u64 = 1;

/// Where director `which`'s keepalived.conf goes: `/run/rvs/<prefix>/<which>.conf`.
pub fn config_path(prefix: &str, which: Director) -> PathBuf {
    LabPaths::new(prefix).logs.join(format!("{}.conf", which.name()))
}

/// Starts rvsd on director `which` with its config file, and waits until its socket answers.
fn start_director(lab: &Seed002Ha, prefix: &str, which: Director) -> Result<u32> {
    let paths = LabPaths::director(prefix, which);
    let config = config_path(prefix, which).to_string_lossy().into_owned();
    daemons::start_rvsd(&lab.director(which).host, lab.mode.director_interfaces(), &["--config", &config], &paths)
}

/// The command line `start_director` runs, as the demo shows it.
fn rvsd_command_line(lab: &Seed002Ha, prefix: &str, which: Director) -> String {
    let paths = LabPaths::director(prefix, which);
    let mut line = String::from("rvsd");
    for interface in lab.mode.director_interfaces() {
        let _ = write!(line, " --interface {interface}");
    }
    let _ = write!(
        line,
        " --socket {} --instance {} --config {}",
        paths.socket.display(),
        paths.instance,
        config_path(prefix, which).display()
    );
    line
}

/// Builds the cluster, starts the real servers' HTTP servers, writes both directors'
/// keepalived.conf and starts rvsd on each, primary first. The lab stays up until
/// `rvs lab down`; with `keep`, waits for VRRP to elect a master and says how to use it.
pub fn up(prefix: &str, mode: HaMode, keep: bool) -> Result<Seed002Ha> {
    let paths = LabPaths::new(prefix);
    std::fs::create_dir_all(&paths.logs).context("creating the lab's log directory")?;
    println!("building seed 002's {} topology with a backup director (namespaces {prefix}-*)", mode.lb_kind());
    let lab = Seed002Ha::build(prefix, mode)
        .with_context(|| format!("building the topology (if an earlier lab is in the way: rvs lab down --prefix {prefix})"))?;
    lab.lab.disarm();
    print!("{lab}");
    for (name, node) in lab.real_servers() {
        daemons::start_http(&node.host, name, &paths)?;
        match mode {
            HaMode::Nat => println!("{name}: HTTP server on :80 answering \"{name}\", gateway {}", NAT_ROUTER.addr()),
            HaMode::Dr => println!("{name}: HTTP server on :80 answering \"{name}\", VIP on lo"),
        }
    }
    for which in Director::BOTH {
        let config = config_path(prefix, which);
        std::fs::write(&config, ha_config::keepalived_conf(mode, which))
            .with_context(|| format!("writing {}", config.display()))?;
        start_director(&lab, prefix, which)?;
        println!("{which}: {} (priority {})", rvsd_command_line(&lab, prefix, which), ha_config::priority(which));
    }
    if keep {
        match wait_for_holders(&lab, &[Director::Primary], UP_WAIT)? {
            Some(took) => println!("VRRP: the primary holds the VIP {} ({} after start)", lab.vip, millis(took)),
            None => println!(
                "VRRP: the primary is not the only master after {UP_WAIT:?}; the VIP is on {} (see {}/rvsd-*.log)",
                holders_text(&lab.vip_holders()?),
                paths.logs.display()
            ),
        }
        let down = if prefix == super::DEFAULT_PREFIX { String::new() } else { format!(" --prefix {prefix}") };
        println!();
        println!("The cluster is up. Try:");
        println!("  ip netns exec {prefix}-client curl -s http://{}/", lab.vip);
        println!("  ip netns exec {prefix}-client curl -o /dev/null http://{}/stream?seconds=30", lab.vip);
        for which in Director::BOTH {
            println!("  RVS_SOCKET={} rvsadm -Lnc", LabPaths::director(prefix, which).socket.display());
        }
        println!("  ip netns exec {prefix}-primary ip -4 addr   # who holds the VIP");
        println!("  kill -TERM $(cat {})   # stop the primary", LabPaths::director(prefix, Director::Primary).rvsd_pid().display());
        println!("  rvs lab down{down}");
    }
    Ok(lab)
}

/// The seed's fail-over experiment, then everything down.
pub fn demo(prefix: &str, mode: HaMode) -> Result<()> {
    let result = run_demo(prefix, mode);
    if let Err(e) = super::down(prefix) {
        eprintln!("rvs: taking the lab down: {e:#}");
    }
    result
}

fn run_demo(prefix: &str, mode: HaMode) -> Result<()> {
    let lab = up(prefix, mode, false)?;
    let primary = LabPaths::director(prefix, Director::Primary);
    let vip = lab.vip;

    println!();
    println!("[lab]$ # waiting for VRRP to elect the primary (ip -4 addr in both directors)");
    let elected = wait_for_holders(&lab, &[Director::Primary], ELECTION_TIMEOUT)?.ok_or_else(|| {
        let holders = lab.vip_holders().map(|h| holders_text(&h)).unwrap_or_else(|e| e.to_string());
        anyhow!("VRRP did not make the primary the only holder of {vip} within {ELECTION_TIMEOUT:?} (it is on {holders}; logs in {})", primary.logs.display())
    })?;
    println!("the primary holds {vip} ({} after start)", millis(elected));
    show_addrs(&lab)?;
    show_tables(prefix, "-Ln")?;

    let expected = STREAM_SECS * DEFAULT_STREAM_RATE;
    println!();
    println!("[client]$ curl -sS -o /dev/null -w '%{{http_code}} %{{size_download}}' http://{vip}/stream?seconds={STREAM_SECS} &");
    println!("[client]$ while true; do curl -s --max-time {REQUEST_TIMEOUT_SECS} http://{vip}/; sleep 0.1; done &");
    let started = Instant::now();
    let download = spawn_download(lab.client.host.clone(), vip);
    let stop = Arc::new(AtomicBool::new(false));
    let requests = spawn_request_loop(lab.client.host.clone(), vip, Arc::clone(&stop));

    thread::sleep(STOP_AFTER);
    println!("[primary]# kill -TERM $(cat {})   # at {}", primary.rvsd_pid().display(), millis(started.elapsed()));
    let stopped_at = Instant::now();
    let pid = daemons::terminate_rvsd(&primary).ok_or_else(|| anyhow!("the primary's rvsd is not running (log: {})", primary.rvsd_log().display()))?;
    let takeover = wait_for_holders(&lab, &[Director::Backup], ELECTION_TIMEOUT)?;
    if !daemons::wait_gone(pid, Duration::from_secs(5)) {
        println!("(the primary's rvsd has not exited 5 s after SIGTERM)");
    }
    match takeover {
        Some(took) => println!("the backup holds {vip} {} after the primary's rvsd was told to stop", millis(took)),
        None => println!("the backup did not take {vip} over within {ELECTION_TIMEOUT:?} (it is on {})", holders_text(&lab.vip_holders()?)),
    }
    let takeover_at = takeover.map(|took| stopped_at + took);
    show_addrs(&lab)?;
    // The download's connection, if sync copied it to the backup before the stop.
    println!("[backup]# rvsadm -Lnc | grep ESTABLISHED");
    let listing = rvsadm(&LabPaths::director(prefix, Director::Backup).socket, &["-Lnc"])?.stdout;
    for line in listing.lines().filter(|l| l.contains("ESTABLISHED")) {
        println!("{line}");
    }

    let download = download.join().map_err(|_| anyhow!("the download thread panicked"))?;
    // Short requests go on for the download's planned length even if it broke early, so that
    // the time after the takeover is always seen.
    thread::sleep((started + Duration::from_secs(STREAM_SECS)).saturating_duration_since(Instant::now()));
    stop.store(true, Ordering::SeqCst);
    let samples = requests.join().map_err(|_| anyhow!("the request loop panicked"))?;
    println!();
    println!("download: {} (expected 200 and {expected} bytes, in about {STREAM_SECS} s)", download.describe());
    let download_ok = download.complete(expected);
    let report = RequestReport::new(&samples, stopped_at, takeover_at);
    print!("{report}");


    println!();
    keep_first_log(&primary);
    println!("[primary]# {}", rvsd_command_line(&lab, prefix, Director::Primary));
    let restarted_at = Instant::now();
    start_director(&lab, prefix, Director::Primary)?;
    let back = wait_for_holders(&lab, &[Director::Primary], ELECTION_TIMEOUT)?;
    match back {
        Some(_) => println!("the primary holds {vip} again {} after its rvsd was started", millis(restarted_at.elapsed())),
        None => println!("the primary did not take {vip} back within {ELECTION_TIMEOUT:?} (it is on {})", holders_text(&lab.vip_holders()?)),
    }
    show_addrs(&lab)?;
    show_tables(prefix, "-Ln")?;

    let mut failures = Vec::new();
    if takeover.is_none() {
        failures.push("the backup never took the VIP over".to_owned());
    }
    if !download_ok {
        failures.push(format!("the download through the fail-over failed: {}", download.describe()));
    }
    if report.after.failed > 0 {
        failures.push(format!("{} short requests failed after the takeover", report.after.failed));
    }
    if back.is_none() {
        failures.push("the primary did not take the VIP back".to_owned());
    }
    if !failures.is_empty() {
        bail!("the fail-over was not seamless: {}", failures.join("; "));
    }
    println!();
    println!("fail-over: the backup took {vip} over in {}, the download and every request after it went through", takeover.map_or_else(String::new, millis));
    Ok(())
}

/// Polls both directors every [`POLL`] until the VIP is on exactly `want`, for at most
/// `timeout`; how long it took, or `None` on time-out.
fn wait_for_holders(lab: &Seed002Ha, want: &[Director], timeout: Duration) -> Result<Option<Duration>> {
    let started = Instant::now();
    loop {
        if lab.vip_holders()? == want {
            return Ok(Some(started.elapsed()));
        }
        if started.elapsed() > timeout {
            return Ok(None);
        }
        thread::sleep(POLL);
    }
}

fn holders_text(holders: &[Director]) -> String {
    match holders {
        [] => "neither director".to_owned(),
        [one] => format!("the {one} only"),
        _ => "both directors (split brain)".to_owned(),
    }
}

fn millis(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// Prints which of each director's addresses are floating ones (`ip -4 addr` in each).
fn show_addrs(lab: &Seed002Ha) -> Result<()> {
    for which in Director::BOTH {
        let addrs = lab.director(which).host.ipv4_addrs()?;
        let floating: Vec<String> = lab
            .mode
            .floating_addrs()
            .into_iter()
            .filter(|(ifname, addr)| addrs.iter().any(|(i, a)| i == ifname && a.addr() == addr.addr()))
            .map(|(ifname, addr)| format!("{addr} on {ifname}"))
            .collect();
        let shown = if floating.is_empty() { "-".to_owned() } else { floating.join(", ") };
        println!("  [{which}] floating addresses: {shown}");
    }
    Ok(())
}

/// `rvsadm <listing>` on each director whose rvsd answers.
fn show_tables(prefix: &str, listing: &str) -> Result<()> {
    for which in Director::BOTH {
        let paths = LabPaths::director(prefix, which);
        println!("[{which}]# rvsadm {listing}");
        let run = rvsadm(&paths.socket, &[listing])?;
        if run.code == 0 {
            print!("{}", run.stdout);
        } else {
            println!("({})", run.stderr.trim());
        }
    }
    Ok(())
}

/// Keeps the first run's log of a director's rvsd as `<daemon>.first.log` before a restart
/// overwrites it.
fn keep_first_log(paths: &LabPaths) {
    let log = paths.rvsd_log();
    let _ = std::fs::rename(&log, log.with_extension("first.log"));
}

/// What the long download ended with.
struct Download {
    /// curl's exit code (`None`: killed, or curl did not run).
    code: Option<i32>,
    /// The HTTP status and byte count curl reported.
    status: Option<u16>,
    bytes: Option<u64>,
    took: Duration,
    error: String,
}

impl Download {
    fn complete(&self, expected: u64) -> bool {
        self.code == Some(0) && self.status == Some(200) && self.bytes == Some(expected)
    }

    fn describe(&self) -> String {
        let mut text = format!(
            "curl exit {}, HTTP {}, {} bytes in {:.1} s",
            self.code.map_or_else(|| "-".to_owned(), |c| c.to_string()),
            self.status.map_or_else(|| "-".to_owned(), |s| s.to_string()),
            self.bytes.map_or_else(|| "-".to_owned(), |b| b.to_string()),
            self.took.as_secs_f64()
        );
        if !self.error.is_empty() {
            let _ = write!(text, " ({})", self.error);
        }
        text
    }
}

/// Downloads `/stream?seconds=STREAM_SECS` through the VIP from `client`, on a thread. A stall
/// of 5 s aborts it (curl's speed limit), so does a reset.
fn spawn_download(client: Host, vip: Ipv4Addr) -> JoinHandle<Download> {
    thread::spawn(move || {
        let url = format!("http://{vip}/stream?seconds={STREAM_SECS}");
        let max_time = (STREAM_SECS + 20).to_string();
        let args = ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "--speed-time", "5", "--speed-limit", "1", "--max-time", &max_time, &url];
        let started = Instant::now();
        let out = client.run("curl", args, Duration::from_secs(STREAM_SECS + 30));
        let took = started.elapsed();
        match out {
            Ok(out) => {
                let mut words = out.stdout.split_whitespace();
                Download {
                    code: out.status.code(),
                    status: words.next().and_then(|w| w.parse().ok()),
                    bytes: words.next().and_then(|w| w.parse().ok()),
                    took,
                    error: out.stderr.trim().to_owned(),
                }
            }
            Err(e) => Download { code: None, status: None, bytes: None, took, error: e.to_string() },
        }
    })
}

/// One short request of the loop: when it started and who answered (`Err`: why it failed).
struct Sample {
    at: Instant,
    answer: Result<String, String>,
}

/// Requests `/` through the VIP from `client` every [`REQUEST_GAP`] until `stop`, on a thread.
fn spawn_request_loop(client: Host, vip: Ipv4Addr, stop: Arc<AtomicBool>) -> JoinHandle<Vec<Sample>> {
    thread::spawn(move || {
        let url = format!("http://{vip}/");
        let max_time = REQUEST_TIMEOUT_SECS.to_string();
        let mut samples = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            let at = Instant::now();
            let out = client.run("curl", ["-sS", "--max-time", &max_time, &url], Duration::from_secs(REQUEST_TIMEOUT_SECS + 5));
            let answer = match out {
                Ok(out) if out.status.success() => Ok(out.stdout.trim().to_owned()),
                Ok(out) => Err(out.stderr.trim().to_owned()),
                Err(e) => Err(e.to_string()),
            };
            samples.push(Sample { at, answer });
            thread::sleep(REQUEST_GAP);
        }
        samples
    })
}

/// The short requests counted per phase.
#[derive(Default)]
struct Tally {
    ok: usize,
    failed: usize,
    /// Answers per real server, in the order first seen.
    by_server: Vec<(String, usize)>,
    first_error: Option<String>,
}

impl Tally {
    fn add(&mut self, sample: &Sample) {
        match &sample.answer {
            Ok(name) => {
                self.ok += 1;
                match self.by_server.iter_mut().find(|(n, _)| n == name) {
                    Some((_, count)) => *count += 1,
                    None => self.by_server.push((name.clone(), 1)),
                }
            }
            Err(why) => {
                self.failed += 1;
                self.first_error.get_or_insert_with(|| why.clone());
            }
        }
    }
}

/// The short requests before the primary was stopped, until the backup held the VIP, and after.
struct RequestReport {
    before: Tally,
    during: Tally,
    after: Tally,
}

impl RequestReport {
    fn new(samples: &[Sample], stopped_at: Instant, takeover_at: Option<Instant>) -> Self {
        let mut report = RequestReport { before: Tally::default(), during: Tally::default(), after: Tally::default() };
        for sample in samples {
            let phase = if sample.at < stopped_at {
                &mut report.before
            } else if takeover_at.is_some_and(|t| sample.at >= t) {
                &mut report.after
            } else {
                &mut report.during
            };
            phase.add(sample);
        }
        report
    }
}

impl std::fmt::Display for RequestReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "short requests:")?;
        for (phase, tally) in [("before the stop", &self.before), ("until the takeover", &self.during), ("after the takeover", &self.after)] {
            let servers: Vec<String> = tally.by_server.iter().map(|(n, c)| format!("{n} {c}")).collect();
            write!(f, "  {phase:<19} {:>3} ok, {:>3} failed", tally.ok, tally.failed)?;
            if !servers.is_empty() {
                write!(f, "  ({})", servers.join(", "))?;
            }
            if let Some(error) = &tally.first_error {
                write!(f, "  first error: {error}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: Instant, answer: Result<&str, &str>) -> Sample {
        Sample { at, answer: answer.map(str::to_owned).map_err(str::to_owned) }
    }

    #[test]
    fn requests_are_counted_by_phase_and_server() {
        let t0 = Instant::now();
        let s = |ms: u64| t0 + Duration::from_millis(ms);
        let samples = [
            sample(s(0), Ok("realserver2")),
            sample(s(100), Ok("realserver1")),
            sample(s(200), Ok("realserver2")),
            sample(s(300), Err("curl: (28) timeout")),
            sample(s(400), Err("curl: (7) refused")),
            sample(s(500), Ok("realserver1")),
        ];
        let report = RequestReport::new(&samples, s(250), Some(s(450)));
        assert_eq!((report.before.ok, report.before.failed), (3, 0));
        assert_eq!(report.before.by_server, [("realserver2".to_owned(), 2), ("realserver1".to_owned(), 1)]);
        assert_eq!((report.during.ok, report.during.failed), (0, 2));
        assert_eq!(report.during.first_error.as_deref(), Some("curl: (28) timeout"));
        assert_eq!((report.after.ok, report.after.failed), (1, 0));
        let text = report.to_string();
        assert!(text.contains("after the takeover    1 ok,   0 failed  (realserver1 1)"), "{text}");

        // Without a takeover everything after the stop counts as during it.
        let report = RequestReport::new(&samples, s(250), None);
        assert_eq!((report.during.ok, report.during.failed, report.after.ok), (1, 2, 0));
    }

    #[test]
    fn a_download_is_complete_with_status_200_and_every_byte() {
        let mut d = Download { code: Some(0), status: Some(200), bytes: Some(100), took: Duration::from_secs(12), error: String::new() };
        assert!(d.complete(100));
        assert!(!d.complete(101));
        d.code = Some(18);
        assert!(!d.complete(100));
        assert!(d.describe().starts_with("curl exit 18, HTTP 200, 100 bytes in 12.0 s"), "{}", d.describe());
    }

    #[test]
    fn config_files_and_command_lines_use_the_directors_paths() {
        assert_eq!(config_path("lab", Director::Backup), PathBuf::from("/run/rvs/lab/backup.conf"));
        assert_eq!(holders_text(&[Director::Backup]), "the backup only");
        assert_eq!(holders_text(&[]), "neither director");
    }
}
