//! Golden transcripts: every `tests/golden/NAME.cmds` was run by the real ipvsadm 1.31 on a real
//! IPVS kernel (the ipvs-oracle VM, one fresh network namespace per case) and recorded as
//! `NAME.txt`. Here each command line runs again through `rvs_core::ipvsadm::run` against a fresh
//! in-process `IpvsTable` (requests and replies round-tripped through the wire JSON), and stdout,
//! stderr and the exit status must match byte for byte.
//!
//! The oracle namespace is reproduced: only `lo` (MTU 65536) is up, 127.0.0.0/8 and ::1 are
//! local, 127.255.255.255 is broadcast; `/etc/hosts` knows only `localhost` (127.0.0.1 and ::1),
//! while `/etc/services` is this machine's (the oracle copies it into the VM).
//!
//! Lines that are not ipvsadm invocations (`cat /proc/...`) are skipped and reported.
//! `printf ... | ipvsadm -R` feeds stdin; `< /dev/null` feeds nothing. As the oracle README says,
//! `-Lc` expiry times and client ports and `--rate` figures are masked.

use rvs_e2e::transcript::{self, CaseResult};
use rvs_core::control::{ControlBackend, LocalTransport};
use rvs_core::ipvsadm::{EXIT_SEGFAULT, Resolver, TableResolver, run};
use rvs_core::model::Protocol;
use rvs_core::table::{IpvsTable, NoLiveData, StaticHost};
use rvsadm::SystemResolver;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

/// The oracle's resolver: its `/etc/hosts`, this system's `/etc/services`.
struct OracleResolver {
    hosts: TableResolver,
}

impl OracleResolver {
    fn new() -> Self {
        let lo4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let lo6 = IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);
        OracleResolver {
            hosts: TableResolver {
                hosts: vec![("localhost".into(), lo4), ("localhost".into(), lo6)],
                services: vec![],
            },
        }
    }
}

impl Resolver for OracleResolver {
    fn host_to_ipv4(&self, name: &str) -> Option<Ipv4Addr> {
        self.hosts.host_to_ipv4(name)
    }
    fn addr_to_host(&self, addr: IpAddr) -> Option<String> {
        self.hosts.addr_to_host(addr)
    }
    fn service_to_port(&self, name: &str, proto: Protocol) -> Option<u16> {
        SystemResolver.service_to_port(name, proto)
    }
    fn port_to_service(&self, port: u16, proto: Protocol) -> Option<String> {
        SystemResolver.port_to_service(port, proto)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Pipe,
    In,
    Other(char),
}

/// A small POSIX-shell lexer: quotes, backslashes, `|`, `<`, and other operators flagged.
fn lex(line: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if let Some(w) = cur.take() {
                    out.push(Token::Word(w));
                }
            }
            '\'' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => w.push(x),
                        None => return Err("unterminated '".into()),
                    }
                }
            }
            '"' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x @ ('"' | '\\' | '$' | '`')) => w.push(x),
                            Some(x) => {
                                w.push('\\');
                                w.push(x);
                            }
                            None => return Err("unterminated \"".into()),
                        },
                        Some('$' | '`') => return Err("expansion inside \" not supported".into()),
                        Some(x) => w.push(x),
                        None => return Err("unterminated \"".into()),
                    }
                }
            }
            '\\' => {
                if let Some(x) = chars.next() {
                    cur.get_or_insert_with(String::new).push(x);
                }
            }
            '|' | '<' | '>' | ';' | '&' | '$' | '`' | '(' | ')' | '*' | '?' => {
                if let Some(w) = cur.take() {
                    out.push(Token::Word(w));
                }
                out.push(match c {
                    '|' => Token::Pipe,
                    '<' => Token::In,
                    other => Token::Other(other),
                });
            }
            x => cur.get_or_insert_with(String::new).push(x),
        }
    }
    if let Some(w) = cur {
        out.push(Token::Word(w));
    }
    Ok(out)
}

/// `printf FORMAT [ARGS]` with backslash escapes, `%%` and `%s`.
fn printf(args: &[String]) -> Result<String, String> {
    let args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    let (fmt, rest) = args.split_first().ok_or("printf without format")?;
    let mut out = String::new();
    let mut rest = rest.iter();
    let mut it = fmt.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('\\') => out.push('\\'),
                Some(x) => return Err(format!("printf escape \\{x} not supported")),
                None => out.push('\\'),
            },
            '%' => match it.next() {
                Some('%') => out.push('%'),
                Some('s') => out.push_str(rest.next().map_or("", String::as_str)),
                other => return Err(format!("printf conversion %{other:?} not supported")),
            },
            x => out.push(x),
        }
    }
    Ok(out)
}

/// What to run for one transcript line: ipvsadm's argv and stdin, or why it is skipped.
fn plan(line: &str) -> Result<(Vec<String>, String), String> {
    let tokens = lex(line)?;
    if let Some(t) = tokens.iter().find(|t| matches!(t, Token::Other(_))) {
        return Err(format!("shell feature {t:?} not supported"));
    }
    let segments: Vec<&[Token]> = tokens.split(|t| *t == Token::Pipe).collect();
    let words = |seg: &[Token]| -> Vec<String> {
        seg.iter()
            .filter_map(|t| {
                if let Token::Word(w) = t {
                    Some(w.clone())
                } else {
                    None
                }
            })
            .collect()
    };
    let (stdin, cmd) = match segments.as_slice() {
        [only] => (String::new(), *only),
        [producer, consumer] => {
            let w = words(producer);
            if w.first().map(String::as_str) != Some("printf") {
                return Err(format!("pipeline from {:?} not supported", w.first()));
            }
            (printf(&w[1..])?, *consumer)
        }
        _ => return Err("longer pipelines not supported".into()),
    };
    let mut argv = Vec::new();
    let mut it = cmd.iter();
    while let Some(t) = it.next() {
        match t {
            Token::Word(w) => argv.push(w.clone()),
            Token::In => match it.next() {
                Some(Token::Word(f)) if f == "/dev/null" => {}
                other => return Err(format!("redirection from {other:?} not supported")),
            },
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    if argv.first().map(String::as_str) != Some("ipvsadm") {
        return Err(format!(
            "not an ipvsadm invocation ({})",
            argv.first().map_or("", String::as_str)
        ));
    }
    Ok((argv, stdin))
}

fn run_line(table: &mut IpvsTable, argv: &[String], stdin: &str) -> String {
    let host = StaticHost::loopback_only();
    let mut backend = ControlBackend(LocalTransport {
        table,
        host: &host,
        counters: &NoLiveData,
        conns: &NoLiveData,
        through_json: true,
    });
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input = stdin.as_bytes();
    let rc = run(
        argv,
        &mut input,
        &mut out,
        &mut err,
        &mut backend,
        &OracleResolver::new(),
    );
    if rc == EXIT_SEGFAULT {
        // ipvsadm dies of SIGSEGV: its buffered stdout is lost and the shell reports the signal
        out.clear();
        err.extend_from_slice(b"Segmentation fault\n");
    }
    let mut body = String::from_utf8_lossy(&out).into_owned();
    for l in String::from_utf8_lossy(&err).split_inclusive('\n') {
        body.push_str("[stderr] ");
        body.push_str(l);
        if !l.ends_with('\n') {
            body.push('\n');
        }
    }
    body.push_str(&format!("[rc={rc}]\n"));
    body
}

fn run_case(cmds_path: &Path) -> Result<CaseResult, String> {
    let cmds_text = std::fs::read_to_string(cmds_path).map_err(|e| e.to_string())?;
    let txt_path = cmds_path.with_extension("txt");
    let transcript_text =
        std::fs::read_to_string(&txt_path).map_err(|e| format!("{}: {e}", txt_path.display()))?;
    let cmds = transcript::commands(&cmds_text);
    let mut table = IpvsTable::new();
    let mut res = CaseResult {
        passed: 0,
        failures: Vec::new(),
        skipped: Vec::new(),
    };
    for b in transcript::blocks(&transcript_text, &cmds)? {
        match plan(&b.cmd) {
            Err(why) => res.skipped.push(format!("{}: {why}", b.cmd)),
            Ok((argv, stdin)) => {
                let got = transcript::mask(&b.cmd, &run_line(&mut table, &argv, &stdin));
                let want = transcript::mask(&b.cmd, &b.body);
                if got == want {
                    res.passed += 1;
                } else {
                    res.failures
                        .push(format!("$ {}\n--- want\n{want}--- got\n{got}", b.cmd));
                }
            }
        }
    }
    Ok(res)
}

/// `tests/golden`, or `$RVS_GOLDEN_DIR` to replay other recordings.
fn golden_dir() -> PathBuf {
    match std::env::var_os("RVS_GOLDEN_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden"),
    }
}

#[test]
fn golden_transcripts_match_ipvsadm() {
    transcript::replay_golden_cases(&golden_dir(), "in process", run_case);
}

#[test]
fn harness_lexer_and_printf() {
    let t = lex(r#"printf -- '-A -t 1.2.3.4:80\n' | ipvsadm -R"#).unwrap_or_default();
    assert_eq!(t.len(), 6);
    assert_eq!(t[3], Token::Pipe);
    let (argv, stdin) = plan(r#"printf -- '-A -t 1.2.3.4:80\n' | ipvsadm -R"#).unwrap_or_default();
    assert_eq!(argv, vec!["ipvsadm".to_owned(), "-R".into()]);
    assert_eq!(stdin, "-A -t 1.2.3.4:80\n");
    assert!(plan("cat /proc/net/ip_vs").is_err());
    assert_eq!(
        plan("ipvsadm -A -t ' 1.2.3.5:80'")
            .map(|p| p.0[3].clone())
            .unwrap_or_default(),
        " 1.2.3.5:80"
    );
    assert_eq!(
        plan("ipvsadm -R < /dev/null")
            .map(|p| p.0.len())
            .unwrap_or_default(),
        2
    );
    assert!(plan("ipvsadm -L; echo").is_err());
}
