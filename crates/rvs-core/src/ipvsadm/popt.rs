//! The parts of libpopt 1.19's `poptGetNextOpt` that ipvsadm's option table exercises:
//! short-option clusters (`-Ln`), attached arguments (`-p5`, `-t=addr`, `--scheduler=rr`),
//! optional arguments that are skipped when the next word starts with '-', `--` ending options,
//! leftovers collected anywhere (popt permutes), exact long names (no abbreviations), and the
//! error codes with the word `poptBadOption` reports.

/// How an option takes its argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    None,
    Required,
    /// `POPT_ARGFLAG_OPTIONAL`: taken from `=value`, the rest of a cluster, or the next word
    /// unless it starts with '-'.
    Optional,
}

/// One entry of the option table.
#[derive(Debug, Clone, Copy)]
pub struct OptDef<T: Copy> {
    pub long: &'static str,
    pub short: Option<char>,
    pub arg: ArgKind,
    pub id: T,
}

/// The popt errors ipvsadm can meet, with `poptStrerror` texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoptError {
    /// `POPT_ERROR_BADOPT`
    UnknownOption,
    /// `POPT_ERROR_NOARG`
    MissingArgument,
    /// `POPT_ERROR_UNWANTEDARG`
    UnwantedArgument,
}

impl PoptError {
    pub fn message(self) -> &'static str {
        match self {
            PoptError::UnknownOption => "unknown option",
            PoptError::MissingArgument => "missing argument",
            PoptError::UnwantedArgument => "option does not take an argument",
        }
    }
}

/// An option found on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit<T> {
    pub id: T,
    pub arg: Option<String>,
}

/// A parsing context over one argv (`argv[0]` is the program and is skipped).
pub struct Popt<'a, T: Copy + 'static> {
    argv: &'a [String],
    table: &'static [OptDef<T>],
    next: usize,
    /// Rest of a short-option cluster: (argv index, byte offset).
    cluster: Option<(usize, usize)>,
    rest_leftover: bool,
    leftovers: Vec<String>,
    leftovers_taken: usize,
}

impl<'a, T: Copy + 'static> Popt<'a, T> {
    pub fn new(argv: &'a [String], table: &'static [OptDef<T>]) -> Self {
        Popt {
            argv,
            table,
            next: 1,
            cluster: None,
            rest_leftover: false,
            leftovers: Vec::new(),
            leftovers_taken: 0,
        }
    }

    /// `poptBadOption(…, POPT_BADOPTION_NOALIAS)`: the last word consumed.
    pub fn bad_option(&self) -> &str {
        self.next
            .checked_sub(1)
            .and_then(|i| self.argv.get(i))
            .map_or("", String::as_str)
    }

    /// `poptGetArg`: the next leftover (non-option) word.
    pub fn take_arg(&mut self) -> Option<String> {
        let a = self.leftovers.get(self.leftovers_taken).cloned();
        if a.is_some() {
            self.leftovers_taken += 1;
        }
        a
    }

    /// `poptGetNextOpt`: the next option, `Ok(None)` at the end.
    pub fn next_opt(&mut self) -> Result<Option<Hit<T>>, PoptError> {
        loop {
            let mut long_arg: Option<String> = None;
            let mut opt: Option<&'static OptDef<T>> = None;
            if self.cluster.is_none() {
                let Some(word) = self.argv.get(self.next) else {
                    return Ok(None);
                };
                let idx = self.next;
                self.next += 1;
                if self.rest_leftover || !word.starts_with('-') || word == "-" {
                    self.leftovers.push(word.clone());
                    continue;
                }
                if word == "--" {
                    self.rest_leftover = true;
                    continue;
                }
                let (body, one_dash) = match word.strip_prefix("--") {
                    Some(b) => (b, false),
                    None => (&word[1..], true),
                };
                let (name, value) = match body.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_owned())),
                    None => (body, None),
                };
                // A single-dash word only matches long options flagged ONEDASH; ipvsadm has none.
                if !one_dash {
                    opt = self.table.iter().find(|o| o.long == name);
                    if opt.is_none() {
                        return Err(PoptError::UnknownOption);
                    }
                    long_arg = value;
                } else {
                    self.cluster = Some((idx, 1));
                }
            }
            if let Some((idx, off)) = self.cluster.take() {
                let word = &self.argv[idx];
                let Some(c) = word[off..].chars().next() else {
                    continue;
                };
                opt = self.table.iter().find(|o| o.short == Some(c));
                if opt.is_none() {
                    return Err(PoptError::UnknownOption);
                }
                let after = off + c.len_utf8();
                if after < word.len() {
                    self.cluster = Some((idx, after));
                }
            }
            let Some(opt) = opt else {
                return Err(PoptError::UnknownOption);
            };
            let arg = match opt.arg {
                ArgKind::None => {
                    let eq_follows = self
                        .cluster
                        .is_some_and(|(i, o)| self.argv[i][o..].starts_with('='));
                    if long_arg.is_some() || eq_follows {
                        return Err(PoptError::UnwantedArgument);
                    }
                    None
                }
                ArgKind::Required | ArgKind::Optional => {
                    if let Some(a) = long_arg {
                        Some(a)
                    } else if let Some((i, o)) = self.cluster.take() {
                        let rest = &self.argv[i][o..];
                        Some(rest.strip_prefix('=').unwrap_or(rest).to_owned())
                    } else if let Some(w) = self.argv.get(self.next) {
                        if opt.arg == ArgKind::Optional && w.starts_with('-') {
                            None
                        } else {
                            self.next += 1;
                            Some(w.clone())
                        }
                    } else if opt.arg == ArgKind::Optional {
                        None
                    } else {
                        return Err(PoptError::MissingArgument);
                    }
                }
            };
            return Ok(Some(Hit { id: opt.id, arg }));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Id {
        List,
        Numeric,
        Tcp,
        Persistent,
        Sched,
    }

    static TABLE: [OptDef<Id>; 5] = [
        OptDef {
            long: "list",
            short: Some('L'),
            arg: ArgKind::None,
            id: Id::List,
        },
        OptDef {
            long: "numeric",
            short: Some('n'),
            arg: ArgKind::None,
            id: Id::Numeric,
        },
        OptDef {
            long: "tcp-service",
            short: Some('t'),
            arg: ArgKind::Required,
            id: Id::Tcp,
        },
        OptDef {
            long: "persistent",
            short: Some('p'),
            arg: ArgKind::Optional,
            id: Id::Persistent,
        },
        OptDef {
            long: "scheduler",
            short: Some('s'),
            arg: ArgKind::Required,
            id: Id::Sched,
        },
    ];

    fn argv(words: &[&str]) -> Vec<String> {
        std::iter::once("ipvsadm")
            .chain(words.iter().copied())
            .map(String::from)
            .collect()
    }

    type Outcome = (
        Vec<(Id, Option<String>)>,
        Result<(), (PoptError, String)>,
        Vec<String>,
    );

    fn all(words: &[&str]) -> Outcome {
        let a = argv(words);
        let mut p = Popt::new(&a, &TABLE);
        let mut hits = Vec::new();
        let res = loop {
            match p.next_opt() {
                Ok(Some(h)) => hits.push((h.id, h.arg)),
                Ok(None) => break Ok(()),
                Err(e) => break Err((e, p.bad_option().to_owned())),
            }
        };
        let mut left = Vec::new();
        while let Some(x) = p.take_arg() {
            left.push(x);
        }
        (hits, res, left)
    }

    #[test]
    fn clusters_and_attached_arguments() {
        let (h, r, _) = all(&["-Ln", "-t1.2.3.4:80", "-t=5.6.7.8:80", "--scheduler=rr"]);
        assert_eq!(r, Ok(()));
        assert_eq!(
            h,
            vec![
                (Id::List, None),
                (Id::Numeric, None),
                (Id::Tcp, Some("1.2.3.4:80".into())),
                (Id::Tcp, Some("5.6.7.8:80".into())),
                (Id::Sched, Some("rr".into())),
            ]
        );
        let (h, _, _) = all(&["-Lt", "x"]);
        assert_eq!(h[1], (Id::Tcp, Some("x".into())));
    }

    #[test]
    fn optional_argument_forms() {
        let (h, _, _) = all(&["-p", "-s", "rr"]);
        assert_eq!(h[0], (Id::Persistent, None));
        let (h, _, _) = all(&["-p", "30"]);
        assert_eq!(h[0], (Id::Persistent, Some("30".into())));
        let (h, _, _) = all(&["-p5", "--persistent=7", "-p=6", "-p"]);
        let args: Vec<_> = h.into_iter().map(|(_, a)| a).collect();
        assert_eq!(
            args,
            vec![Some("5".into()), Some("7".into()), Some("6".into()), None]
        );
        let (h, _, _) = all(&["-ps", "rr"]);
        assert_eq!(h[0], (Id::Persistent, Some("s".into())));
        let (h, _, _) = all(&["-p", ""]);
        assert_eq!(h[0], (Id::Persistent, Some(String::new())));
    }

    #[test]
    fn errors_name_the_word() {
        assert_eq!(
            all(&["-L", "--bogus"]).1,
            Err((PoptError::UnknownOption, "--bogus".into()))
        );
        assert_eq!(
            all(&["-Lq"]).1,
            Err((PoptError::UnknownOption, "-Lq".into()))
        );
        assert_eq!(
            all(&["-L", "--num"]).1,
            Err((PoptError::UnknownOption, "--num".into()))
        );
        assert_eq!(
            all(&["-L", "-n=3"]).1,
            Err((PoptError::UnwantedArgument, "-n=3".into()))
        );
        assert_eq!(
            all(&["--list=3"]).1,
            Err((PoptError::UnwantedArgument, "--list=3".into()))
        );
        assert_eq!(
            all(&["-L", "-t"]).1,
            Err((PoptError::MissingArgument, "-t".into()))
        );
        assert_eq!(
            all(&["-p", "-5"]).1,
            Err((PoptError::UnknownOption, "-5".into()))
        );
        assert_eq!(PoptError::MissingArgument.message(), "missing argument");
    }

    #[test]
    fn leftovers_and_double_dash() {
        let (h, r, left) = all(&["foo", "-L", "--", "-n", "-"]);
        assert_eq!(r, Ok(()));
        assert_eq!(h, vec![(Id::List, None)]);
        assert_eq!(left, vec!["foo".to_owned(), "-n".into(), "-".into()]);
        let (_, _, left) = all(&["-L", "-"]);
        assert_eq!(left, vec!["-".to_owned()]);
    }

    #[test]
    fn required_argument_takes_dash_words() {
        let (h, _, _) = all(&["-s", "-p"]);
        assert_eq!(h, vec![(Id::Sched, Some("-p".into()))]);
    }
}
