//! A submitted form's fields, read into typed values; every field that does not read is noted
//! against its input's name, so that the page can show each error next to its field.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

/// The fields of a submitted form (`application/x-www-form-urlencoded`).
#[derive(Debug, Default, Clone)]
pub struct Fields(BTreeMap<String, String>);

impl Fields {
    /// The fields of name/value pairs: a submitted form's, or a form's values drawn from the
    /// configuration and read back (to check the form shows all of it).
    pub fn new<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Fields(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    /// The field's text, trimmed; empty when absent.
    pub fn text(&self, name: &str) -> &str {
        self.0.get(name).map_or("", |v| v.trim())
    }

    /// The field's text as submitted (send strings keep their blanks).
    pub fn raw(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    /// A checkbox: present means ticked.
    pub fn ticked(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Every field, to draw the form again as it was submitted.
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

/// The errors of one submitted form, by field name (`""` for the form as a whole).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Errors(pub BTreeMap<String, String>);

impl Errors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_owned()).or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }
}

/// Reads typed values out of [`Fields`], noting what does not read in [`Errors`].
pub struct Reader<'a> {
    pub fields: &'a Fields,
    pub errors: Errors,
}

impl<'a> Reader<'a> {
    pub fn new(fields: &'a Fields) -> Self {
        Reader { fields, errors: Errors::default() }
    }

    /// A required IP address.
    pub fn ip(&mut self, name: &str) -> Option<IpAddr> {
        let text = self.fields.text(name);
        if text.is_empty() {
            self.errors.add(name, "required: an IPv4 or IPv6 address");
            return None;
        }
        let bare = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
        match IpAddr::from_str(bare) {
            Ok(a) if a.is_unspecified() || a.is_multicast() => {
                self.errors.add(name, format!("{a} cannot be a service or real server address"));
                None
            }
            Ok(a) => Some(a),
            Err(_) => {
                self.errors.add(name, format!("`{text}` is not an IP address"));
                None
            }
        }
    }

    /// A whole number in `min..=max`; `default` when the field is empty (required if `None`).
    pub fn number(&mut self, name: &str, min: u64, max: u64, default: Option<u64>) -> Option<u64> {
        let text = self.fields.text(name);
        if text.is_empty() {
            if default.is_none() {
                self.errors.add(name, format!("required: a number from {min} to {max}"));
            }
            return default;
        }
        match text.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.errors.add(name, format!("`{text}` is not a number from {min} to {max}"));
                None
            }
        }
    }

    /// A port, 1–65535 (0 allowed when `zero_ok`, for "the service's port").
    pub fn port(&mut self, name: &str, zero_ok: bool) -> Option<u16> {
        let min = u64::from(!zero_ok);
        self.number(name, min, 65535, zero_ok.then_some(0)).and_then(|p| u16::try_from(p).ok())
    }

    /// Seconds, with decimals (`0.5`), in `min..=max`; `default` when empty.
    pub fn seconds(&mut self, name: &str, min: f64, max: f64, default: Duration) -> Option<Duration> {
        let text = self.fields.text(name);
        if text.is_empty() {
            return Some(default);
        }
        match text.parse::<f64>() {
            Ok(s) if s.is_finite() && (min..=max).contains(&s) => Duration::try_from_secs_f64(s).ok(),
            _ => {
                self.errors.add(name, format!("`{text}` is not a number of seconds from {min} to {max}"));
                None
            }
        }
    }

    /// One of `choices` (the values of a `<select>`).
    pub fn choice<T: Copy>(&mut self, name: &str, choices: &[(&str, T)]) -> Option<T> {
        let text = self.fields.text(name);
        match choices.iter().find(|(c, _)| *c == text) {
            Some((_, v)) => Some(*v),
            None => {
                let names: Vec<&str> = choices.iter().map(|(c, _)| *c).collect();
                self.errors.add(name, format!("choose one of {}", names.join(", ")));
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), Errors> {
        if self.errors.is_empty() { Ok(()) } else { Err(self.errors) }
    }
}

/// A send string as piranha's `send = "GET / HTTP/1.0\r\n\r\n"` writes it: `\r`, `\n`, `\t`
/// and `\\` are escapes, anything else stands for itself.
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('\\') => out.push(b'\\'),
            Some(other) => return Err(format!("unknown escape `\\{other}` (use \\r, \\n, \\t or \\\\)")),
            None => return Err("a lone `\\` at the end (write \\\\ for a backslash)".to_owned()),
        }
    }
    Ok(out)
}

/// The inverse of [`unescape`], to show a send string in its field.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\r' => out.push_str("\\r"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;


    #[test]
    fn each_bad_field_is_named() {
        let f = Fields::new([("addr", "10.0.0.300"), ("port", "70000"), ("weight", ""), ("timeout", "x")]);
        let mut r = Reader::new(&f);
        assert_eq!(r.ip("addr"), None);
        assert_eq!(r.port("port", false), None);
        assert_eq!(r.number("weight", 0, 100, Some(1)), Some(1));
        assert_eq!(r.seconds("timeout", 0.1, 60.0, Duration::from_secs(5)), None);
        let errors = r.finish().err().unwrap_or_default();
        assert_eq!(errors.get("addr"), Some("`10.0.0.300` is not an IP address"));
        assert_eq!(errors.get("port"), Some("`70000` is not a number from 1 to 65535"));
        assert!(errors.get("weight").is_none());
        assert!(errors.get("timeout").is_some());
    }

    #[test]
    fn addresses_in_brackets_and_refused_ones() {
        let f = Fields::new([("a", "[2001:db8::1]"), ("b", "0.0.0.0"), ("c", "224.0.0.18")]);
        let mut r = Reader::new(&f);
        assert_eq!(r.ip("a"), "2001:db8::1".parse().ok());
        assert_eq!(r.ip("b"), None);
        assert_eq!(r.ip("c"), None);
    }

    #[test]
    fn send_strings_round_trip() {
        assert_eq!(unescape("GET / HTTP/1.0\\r\\n\\r\\n").as_deref(), Ok(&b"GET / HTTP/1.0\r\n\r\n"[..]));
        assert_eq!(escape(b"GET / HTTP/1.0\r\n\r\n"), "GET / HTTP/1.0\\r\\n\\r\\n");
        assert!(unescape("a\\q").is_err());
        assert!(unescape("a\\").is_err());
        assert_eq!(escape(&[0xff, b'a']), "\\xffa");
    }
}
