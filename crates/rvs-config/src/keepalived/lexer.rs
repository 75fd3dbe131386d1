//! keepalived.conf's lines into statements and braces, as `lib/parser.c` reads them
//! (`read_line`, `decomment`, `alloc_strvec_r`):
//!
//! - `#` and `!` start a comment outside `"…"` (`\#`, `\!` are the characters themselves);
//! - `{` and `}` outside quotes are tokens wherever they stand (`url{` is `url` then `{`), and
//!   end the statement before them: a statement is the words of a line between braces;
//! - a word starting with `"` runs to the next `"`, without the quotes;
//! - `include PATTERN` reads the files matching the glob, relative to the including file's
//!   directory, in place (at any depth of blocks);
//! - `$NAME=value` defines a parameter that `$NAME` and `${NAME}` in later lines stand for;
//! - `@ID line` is read only by the keepalived started with `-i ID`: rvs has no config id and
//!   skips it; `@^ID line` is read.

use std::path::{Path, PathBuf};

use super::include;
use super::{Ctx, Pos};

/// A word and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word {
    pub text: String,
    pub pos: Pos,
}

/// The words of a line between braces, and their text as written (for command lines, which
/// keepalived splits again with its own quoting rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stmt {
    pub words: Vec<Word>,
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Item {
    Stmt(Stmt),
    Open(Pos),
    Close(Pos),
}

/// Deepest nesting of `include`s.
const MAX_INCLUDE_DEPTH: usize = 32;

/// The statements and braces of `text` (named `name`) and of the files it includes, in order.
pub(super) fn lex(text: &str, name: &Path, ctx: &mut Ctx) -> Vec<Item> {
    let mut lexer = Lexer { ctx, items: Vec::new(), defs: Vec::new(), reading: Vec::new(), skipped_ids: false, seq: 0 };
    lexer.reading.push(name.canonicalize().unwrap_or_else(|_| name.to_path_buf()));
    lexer.file(text, name);
    lexer.items
}

type Chars = Vec<(char, u32)>;

struct Lexer<'c> {
    ctx: &'c mut Ctx,
    items: Vec<Item>,
    defs: Vec<(String, Chars)>,
    /// The files being read, outermost first (canonical paths, to find include loops).
    reading: Vec<PathBuf>,
    skipped_ids: bool,
    /// Lines read so far, included ones counted where they are included.
    seq: u32,
}

impl Lexer<'_> {
    fn file(&mut self, text: &str, path: &Path) {
        let file = self.ctx.add_file(path);
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        for (line, n) in text.lines().zip(1u32..) {
            self.seq += 1;
            let seq = self.seq;
            let pos = move |col: u32| Pos { file, line: n, col, seq };
            self.line(line, &pos, &dir);
        }
    }

    fn line(&mut self, line: &str, pos: &dyn Fn(u32) -> Pos, dir: &Path) {
        let mut chars = self.decomment(line.chars().zip(1u32..).collect(), pos);
        if chars.is_empty() {
            return;
        }
        if chars[0].0 == '@' {
            let id_end = chars.iter().position(|(c, _)| *c == ' ' || *c == '\t').unwrap_or(chars.len());
            if chars.get(1).is_some_and(|c| c.0 == '^') {
                chars.drain(..id_end);
                chars = trim(chars);
            } else {
                if !self.skipped_ids {
                    self.skipped_ids = true;
                    let id: String = chars[1..id_end].iter().map(|c| c.0).collect();
                    self.ctx.warn(
                        pos(chars[0].1),
                        format!("line for config id `{id}` skipped: rvs reads a file as keepalived without `-i`"),
                        Some("remove the `@ID` prefix to use the line, or `@^ID` to use it everywhere but on ID".into()),
                    );
                }
                return;
            }
        }
        if self.definition(&chars, pos) {
            return;
        }
        if starts_with(&chars, "~SEQ") || starts_with(&chars, "~LST") {
            self.ctx.error(pos(chars[0].1), "`~SEQ`/`~LST` sequence blocks are not supported by rvs", None);
            return;
        }
        if !self.defs.is_empty() && chars.iter().any(|c| c.0 == '$') {
            let substituted = self.substitute(&chars);
            if substituted != chars {
                chars = self.decomment(substituted, pos);
            }
        }
        let text: String = chars.iter().map(|c| c.0).collect();
        if let Some(rest) = include_pattern(&text) {
            self.include(rest.trim(), pos(chars[0].1), dir);
            return;
        }
        self.split(&chars, pos);
    }

    /// The line without its comment and surrounding blanks.
    fn decomment(&mut self, chars: Chars, pos: &dyn Fn(u32) -> Pos) -> Chars {
        let mut out = Vec::with_capacity(chars.len());
        let mut quote: Option<u32> = None;
        let mut it = chars.into_iter().peekable();
        while let Some((c, col)) = it.next() {
            match c {
                '"' => {
                    quote = if quote.is_some() { None } else { Some(col) };
                    out.push((c, col));
                }
                '\\' => match it.next() {
                    Some(next) if quote.is_none() && (next.0 == '#' || next.0 == '!') => out.push(next),
                    Some(next) => {
                        out.push((c, col));
                        out.push(next);
                    }
                    None => out.push((c, col)),
                },
                '#' | '!' if quote.is_none() => break,
                _ => out.push((c, col)),
            }
        }
        if let Some(col) = quote {
            self.ctx.error(pos(col), "unterminated quote", Some("close the string with `\"`".into()));
        }
        trim(out)
    }

    /// `$NAME=value`: remembers the definition.
    fn definition(&mut self, chars: &[(char, u32)], pos: &dyn Fn(u32) -> Pos) -> bool {
        if chars.len() < 3 || chars[0].0 != '$' || !(chars[1].0.is_ascii_alphabetic() || chars[1].0 == '_') {
            return false;
        }
        let name_end = 1 + chars[1..].iter().take_while(|c| c.0.is_ascii_alphanumeric() || c.0 == '_').count();
        let mut i = name_end;
        while chars.get(i).is_some_and(|c| c.0 == ' ' || c.0 == '\t') {
            i += 1;
        }
        if chars.get(i).is_none_or(|c| c.0 != '=') {
            return false;
        }
        let name: String = chars[1..name_end].iter().map(|c| c.0).collect();
        let value = trim(chars[i + 1..].to_vec());
        if value.last().is_some_and(|c| c.0 == '\\') {
            self.ctx.error(pos(chars[0].1), format!("multi-line definition `${name}` is not supported by rvs"), None);
            return true;
        }
        self.defs.retain(|(n, _)| *n != name);
        self.defs.push((name, value));
        true
    }

    /// The line with `$NAME` and `${NAME}` replaced by their definitions (unknown names stay).
    fn substitute(&self, chars: &[(char, u32)]) -> Chars {
        let mut out = Vec::with_capacity(chars.len());
        let mut i = 0;
        while i < chars.len() {
            if chars[i].0 == '$'
                && let Some((def, len)) = self.reference(&chars[i + 1..])
            {
                out.extend(def.iter().map(|(c, _)| (*c, chars[i].1)));
                i += 1 + len;
                continue;
            }
            out.push(chars[i]);
            i += 1;
        }
        out
    }

    /// The definition `rest` (what follows a `$`) names, and how many characters name it.
    fn reference(&self, rest: &[(char, u32)]) -> Option<(&Chars, usize)> {
        let braced = rest.first().is_some_and(|c| c.0 == '{');
        let start = usize::from(braced);
        let len = rest[start..].iter().take_while(|c| c.0.is_ascii_alphanumeric() || c.0 == '_').count();
        if len == 0 || rest[start].0.is_ascii_digit() {
            return None;
        }
        let after = rest.get(start + len).map(|c| c.0);
        let used = match (braced, after) {
            (true, Some('}')) => start + len + 1,
            (false, None | Some(' ' | '\t' | ',' | ')')) => len,
            _ => return None,
        };
        let name: String = rest[start..start + len].iter().map(|c| c.0).collect();
        self.defs.iter().find(|(n, _)| *n == name).map(|(_, v)| (v, used))
    }

    /// Reads the files `pattern` names, relative to `dir`.
    fn include(&mut self, pattern: &str, pos: Pos, dir: &Path) {
        if pattern.is_empty() {
            self.ctx.error(pos, "`include` needs a file name or pattern", None);
            return;
        }
        if self.reading.len() > MAX_INCLUDE_DEPTH {
            self.ctx.error(pos, format!("includes nested more than {MAX_INCLUDE_DEPTH} deep"), None);
            return;
        }
        let found = include::expand(dir, pattern);
        for skipped in &found.directories {
            self.ctx.warn(pos, format!("`{}` is a directory: skipped", skipped.display()), None);
        }
        if found.files.is_empty() {
            if include::has_wildcards(pattern) {
                self.ctx.warn(pos, format!("no file matches `{pattern}`"), None);
            } else if found.directories.is_empty() {
                let path = dir.join(pattern);
                self.ctx.error(pos, format!("cannot read included file `{}`: no such file", path.display()), None);
            }
        }
        for path in found.files {
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    self.ctx.error(pos, format!("cannot read included file `{}`: {e}", path.display()), None);
                    continue;
                }
            };
            let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
            if self.reading.contains(&canonical) {
                self.ctx.error(
                    pos,
                    format!("include loop: `{}` is already being read", path.display()),
                    Some("a file must not include itself, directly or through other files".into()),
                );
                continue;
            }
            self.reading.push(canonical);
            self.file(&text, &path);
            self.reading.pop();
        }
    }

    /// Cuts the line at braces outside quotes and splits the pieces into words.
    fn split(&mut self, chars: &[(char, u32)], pos: &dyn Fn(u32) -> Pos) {
        let mut start = 0;
        let mut quoted = false;
        for (i, &(c, col)) in chars.iter().enumerate() {
            match c {
                '"' => quoted = !quoted,
                '{' | '}' if !quoted => {
                    self.statement(&chars[start..i], pos);
                    self.items.push(if c == '{' { Item::Open(pos(col)) } else { Item::Close(pos(col)) });
                    start = i + 1;
                }
                _ => {}
            }
        }
        self.statement(&chars[start..], pos);
    }

    fn statement(&mut self, chars: &[(char, u32)], pos: &dyn Fn(u32) -> Pos) {
        let chars = trim(chars.to_vec());
        let words = words(&chars, pos);
        if !words.is_empty() {
            self.items.push(Item::Stmt(Stmt { words, raw: chars.iter().map(|c| c.0).collect() }));
        }
    }
}

/// Words as `alloc_strvec_r` cuts them: blanks separate; a word that starts with `"` runs to
/// the next `"` (the quotes dropped), another stops at a blank or a `"`.
fn words(chars: &[(char, u32)], pos: &dyn Fn(u32) -> Pos) -> Vec<Word> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (c, col) = chars[i];
        if c == ' ' || c == '\t' {
            i += 1;
            continue;
        }
        let (text, next) = if c == '"' {
            let end = chars[i + 1..].iter().position(|c| c.0 == '"').map_or(chars.len(), |p| i + 1 + p);
            (chars[i + 1..end].iter().map(|c| c.0).collect(), end + 1)
        } else {
            let end = chars[i..]
                .iter()
                .position(|c| c.0 == ' ' || c.0 == '\t' || c.0 == '"')
                .map_or(chars.len(), |p| i + p);
            (chars[i..end].iter().map(|c| c.0).collect(), end)
        };
        words.push(Word { text, pos: pos(col) });
        i = next;
    }
    words
}

fn trim(mut chars: Chars) -> Chars {
    while chars.last().is_some_and(|c| c.0 == ' ' || c.0 == '\t') {
        chars.pop();
    }
    let lead = chars.iter().take_while(|c| c.0 == ' ' || c.0 == '\t').count();
    chars.drain(..lead);
    chars
}

fn starts_with(chars: &[(char, u32)], s: &str) -> bool {
    chars.len() >= s.len() && chars.iter().zip(s.chars()).all(|(a, b)| a.0 == b)
}

/// What follows `include` (or keepalived's `includer`/`includem`/`includew`/`includeb`/
/// `includea`, which differ only in how missing files are reported) on an include line.
fn include_pattern(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("include")?;
    let rest = match rest.chars().next() {
        Some(' ' | '\t') => rest,
        Some('r' | 'm' | 'w' | 'b' | 'a') if rest[1..].starts_with([' ', '\t']) => &rest[1..],
        _ => return None,
    };
    Some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> (Vec<Item>, Ctx) {
        let mut ctx = Ctx::default();
        let items = lex(text, Path::new("t.conf"), &mut ctx);
        (items, ctx)
    }

    fn shape(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Stmt(s) => s.words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join("|"),
                Item::Open(_) => "{".into(),
                Item::Close(_) => "}".into(),
            })
            .collect()
    }

    #[test]
    fn braces_comments_and_quotes() {
        let (items, ctx) = items(
            "virtual_server 10.0.0.1 80{ # comment\n  url{ path \"/a b#c\" } ! other\n weight 1}\n\\#x y\n",
        );
        assert_eq!(shape(&items), ["virtual_server|10.0.0.1|80", "{", "url", "{", "path|/a b#c", "}", "weight|1", "}", "#x|y"]);
        assert!(ctx.diagnostics().is_empty());
        let Item::Stmt(s) = &items[4] else { panic!("statement") };
        assert_eq!((s.words[1].pos.line, s.words[1].pos.col), (2, 13));
        assert_eq!(s.raw, "path \"/a b#c\"");
    }

    #[test]
    fn words_glued_to_quotes_are_cut_as_keepalived_does() {
        let (items, _) = items("notify_up abc\"def ghi\" x");
        assert_eq!(shape(&items), ["notify_up|abc|def ghi|x"]);
    }

    #[test]
    fn definitions_and_config_ids() {
        let (items, ctx) = items("$PORT=8080\n$H = 10.0.0.1\nvs ${H} $PORT\n@^other weight 2\n@node1 weight 3\n$UNKNOWN x\n");
        assert_eq!(shape(&items), ["vs|10.0.0.1|8080", "weight|2", "$UNKNOWN|x"]);
        assert_eq!(ctx.diagnostics().len(), 1, "one warning for the skipped @node1 line");
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        let (_, ctx) = items("script \"/bin/true\n");
        let d = &ctx.diagnostics()[0];
        assert_eq!((d.line, d.column, d.message.as_str()), (1, 8, "unterminated quote"));
    }

    #[test]
    fn include_lines_are_recognised() {
        assert_eq!(include_pattern("include /etc/x.conf"), Some(" /etc/x.conf"));
        assert_eq!(include_pattern("includew\t*.conf"), Some("\t*.conf"));
        assert_eq!(include_pattern("included x"), None);
        assert_eq!(include_pattern("include_foo x"), None);
    }
}
