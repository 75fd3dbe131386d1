//! lvs.cf's lines cut into words as `lvsconfig.c`'s `tokenizeString` cuts them, its numbers as
//! `strtol(…, 0)` reads them, and nanny's `convert_str` escapes.

/// One word of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    /// The word, without its quotes.
    pub text: String,
    /// 1-based column of its first character (of the opening quote when quoted).
    pub col: u32,
    pub quoted: bool,
}

/// Why a line could not be cut into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LexError {
    pub col: u32,
    pub message: String,
    pub hint: Option<String>,
}

/// The words of a line: `None` for blank lines and comments (`#` as the first non-blank
/// character; lvsconfig.c knows no comment after a value). Words are separated by blanks
/// (space, tab); a word that starts with `"` or `'` runs to the same quote, blanks included,
/// with no escape for the quote itself.
pub(super) fn tokenize(line: &str) -> Result<Option<Vec<Token>>, LexError> {
    let chars: Vec<char> = line.trim_end_matches(['\r', '\n']).chars().collect();
    let blank = |c: char| c == ' ' || c == '\t';
    let mut i = 0;
    while i < chars.len() && blank(chars[i]) {
        i += 1;
    }
    if i == chars.len() || chars[i] == '#' {
        return Ok(None);
    }
    let mut tokens = Vec::new();
    while i < chars.len() {
        let start = i;
        let col = u32::try_from(start + 1).unwrap_or(u32::MAX);
        let quote = chars[i];
        if quote == '"' || quote == '\'' {
            let Some(len) = chars[i + 1..].iter().position(|&c| c == quote) else {
                return Err(LexError {
                    col,
                    message: format!("unterminated quote: no closing {quote} on this line"),
                    hint: Some(format!("close the value with {quote}; lvs.cf values stay on one line")),
                });
            };
            let end = i + 1 + len;
            if end + 1 < chars.len() && !blank(chars[end + 1]) {
                return Err(LexError {
                    col: u32::try_from(end + 2).unwrap_or(u32::MAX),
                    message: format!("text right after the closing {quote}"),
                    hint: Some(format!(
                        "lvs.cf has no escape for a quote inside a quoted value: quote with the other kind ({})",
                        if quote == '"' { '\'' } else { '"' }
                    )),
                });
            }
            tokens.push(Token { text: chars[i + 1..end].iter().collect(), col, quoted: true });
            i = end + 1;
        } else {
            while i < chars.len() && !blank(chars[i]) {
                i += 1;
            }
            tokens.push(Token { text: chars[start..i].iter().collect(), col, quoted: false });
        }
        while i < chars.len() && blank(chars[i]) {
            i += 1;
        }
    }
    Ok(Some(tokens))
}

/// A number as `strtol(text, &end, 0)` with nothing left over reads it: an optional sign, then
/// `0x…` hexadecimal, `0…` octal or decimal. `None` when it is not one or does not fit.
pub(super) fn c_number(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        (16, hex)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let value = i64::from_str_radix(digits, radix).ok()?;
    Some(if negative { -value } else { value })
}

/// Whether `c_number` reads `text` as octal (a leading 0 followed by digits).
pub(super) fn is_octal(text: &str) -> bool {
    let digits = text.trim_start_matches(['+', '-']);
    digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0x") && !digits.starts_with("0X")
}

/// nanny's `convert_str`: `\\`, `\r`, `\n`, `\t`, `\'` and `\"` become the character; any other
/// backslash stays as it is.
pub(super) fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let replaced = match chars.peek() {
            Some('\\') => '\\',
            Some('r') => '\r',
            Some('n') => '\n',
            Some('t') => '\t',
            Some('\'') => '\'',
            Some('"') => '"',
            _ => {
                out.push('\\');
                continue;
            }
        };
        chars.next();
        out.push(replaced);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<(String, u32, bool)> {
        match tokenize(line) {
            Ok(Some(t)) => t.into_iter().map(|t| (t.text, t.col, t.quoted)).collect(),
            other => panic!("{line:?}: {other:?}"),
        }
    }

    #[test]
    fn words_quotes_and_comments() {
        assert_eq!(tokenize("   # a comment"), Ok(None));
        assert_eq!(tokenize(" \t \r"), Ok(None));
        assert_eq!(
            words("\taddress = 192.168.1.250 eth0:1"),
            vec![
                ("address".into(), 2, false),
                ("=".into(), 10, false),
                ("192.168.1.250".into(), 12, false),
                ("eth0:1".into(), 26, false)
            ]
        );
        assert_eq!(
            words(r#"send = "GET / HTTP/1.0\r\n\r\n""#),
            vec![("send".into(), 1, false), ("=".into(), 6, false), (r"GET / HTTP/1.0\r\n\r\n".into(), 8, true)]
        );
        assert_eq!(words("expect = 'say \"hi\"'")[2], ("say \"hi\"".into(), 10, true));
        assert_eq!(words("port = 80 # http").len(), 5, "lvsconfig.c has no trailing comments");
        let err = tokenize("send = \"GET /").expect_err("unterminated");
        assert_eq!((err.col, err.message.as_str()), (8, "unterminated quote: no closing \" on this line"));
        let err = tokenize("expect = \"a\"b").expect_err("glued");
        assert_eq!((err.col, err.message.as_str()), (13, "text right after the closing \""));
    }

    #[test]
    fn numbers_read_as_strtol_base_zero() {
        assert_eq!(c_number("80"), Some(80));
        assert_eq!(c_number("0x1F"), Some(31));
        assert_eq!(c_number("010"), Some(8));
        assert!(is_octal("010") && !is_octal("0") && !is_octal("0x10") && !is_octal("10"));
        assert_eq!(c_number("0"), Some(0));
        assert_eq!(c_number("-3"), Some(-3));
        assert_eq!(c_number("08"), None);
        assert_eq!(c_number("80s"), None);
        assert_eq!(c_number(""), None);
        assert_eq!(c_number("0x"), None);
    }

    #[test]
    fn escapes_as_nanny_converts_them() {
        assert_eq!(unescape(r"GET / HTTP/1.0\r\n\r\n"), "GET / HTTP/1.0\r\n\r\n");
        assert_eq!(unescape(r#"a\\nb\t\'\"\x\"#), "a\\nb\t'\"\\x\\");
        assert_eq!(unescape("GET / HTTP/1.0rnrn"), "GET / HTTP/1.0rnrn");
    }
}
