//! `config_stream_read`: how `ipvsadm -R` cuts its input into argument vectors. Words are
//! separated by space, tab, CR or LF; a line ends at LF; every word equal to `ipvsadm` is dropped
//! (anywhere in the line); `#` is not special (the C code means to skip comments but never does);
//! words longer than 4096 bytes are split; and a line whose last word is followed by a blank and
//! then the end of input is lost.

use std::io::BufRead;

const MAX_TOKEN: usize = 4096;

fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Reads argument vectors from the input as `config_stream_read` does, one line at a time (so a
/// command runs as soon as its line has arrived, as with ipvsadm reading a pipe).
pub struct ConfigStream<'a> {
    input: &'a mut dyn BufRead,
}

impl<'a> ConfigStream<'a> {
    pub fn new(input: &'a mut dyn BufRead) -> Self {
        ConfigStream { input }
    }

    /// The next byte without consuming it; read errors end the input, as EOF does for `fscanf`.
    fn peek(&mut self) -> Option<u8> {
        self.input.fill_buf().ok().and_then(|b| b.first().copied())
    }

    fn bump(&mut self) {
        self.input.consume(1);
    }

    /// The next argument vector, `argv[0]` being `program`; `None` at the end of the input.
    /// Empty lines give a vector of one element, which the caller skips.
    pub fn next_args(&mut self, program: &str) -> Option<Vec<String>> {
        let mut args = vec![program.to_owned()];
        let mut ntoken = 0usize;
        // the one-character `tail` buffer of the scanf format; stale between words
        let mut tail: u8 = b' ';
        loop {
            let first = self.peek()?;
            if is_sep(first) {
                // scanf matched nothing: skip blanks up to the end of the line
                loop {
                    match self.peek() {
                        None => return None,
                        Some(b'\n') => {
                            self.bump();
                            return Some(args);
                        }
                        Some(b'\t' | b'\r' | b' ') => self.bump(),
                        Some(_) => break,
                    }
                }
                continue;
            }
            let mut token = Vec::new();
            while token.len() < MAX_TOKEN {
                match self.peek() {
                    Some(b) if !is_sep(b) => {
                        token.push(b);
                        self.bump();
                    }
                    _ => break,
                }
            }
            let token = String::from_utf8_lossy(&token).into_owned();
            if let Some(b) = self.peek().filter(|&b| is_sep(b)) {
                tail = b;
                self.bump();
            }
            if token != "ipvsadm" {
                ntoken += 1;
                args.push(token);
            }
            if tail == b'\n' {
                return Some(args);
            }
            if self.peek().is_none() {
                break;
            }
        }
        if ntoken == 0 { None } else { Some(args) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &str) -> Vec<Vec<String>> {
        let mut bytes = input.as_bytes();
        let mut s = ConfigStream::new(&mut bytes);
        let mut out = Vec::new();
        while let Some(a) = s.next_args("ipvsadm") {
            out.push(a[1..].to_vec());
        }
        out
    }

    #[test]
    fn lines_and_words() {
        assert_eq!(
            all("-A -t 1.2.3.4:80\n-C\n"),
            vec![vec!["-A", "-t", "1.2.3.4:80"], vec!["-C"]]
        );
        assert_eq!(
            all("-A\t-t\t10.0.0.15:80\r\n-h\n"),
            vec![vec!["-A", "-t", "10.0.0.15:80"], vec!["-h"]]
        );
        assert_eq!(all("-C"), vec![vec!["-C"]]);
        assert_eq!(all(""), Vec::<Vec<String>>::new());
    }

    #[test]
    fn ipvsadm_words_are_dropped_everywhere() {
        assert_eq!(
            all("ipvsadm -A -t x\n-a ipvsadm -t x\n"),
            vec![vec!["-A", "-t", "x"], vec!["-a", "-t", "x"]]
        );
        assert_eq!(all("ipvsadm\n-C\n"), vec![vec![], vec!["-C"]]);
    }

    #[test]
    fn blank_lines_and_hashes() {
        assert_eq!(
            all("\n\n   \n-A # c\n"),
            vec![vec![], vec![], vec![], vec!["-A", "#", "c"]]
        );
        assert_eq!(all("# comment line\n"), vec![vec!["#", "comment", "line"]]);
        assert_eq!(all("-C  \n-D\n"), vec![vec!["-C"], vec!["-D"]]);
    }

    #[test]
    fn trailing_blank_before_eof_loses_the_line() {
        assert_eq!(all("-C\n-A -t x  "), vec![vec!["-C"]]);
        assert_eq!(all("-A -t x "), vec![vec!["-A", "-t", "x"]]);
    }
}
