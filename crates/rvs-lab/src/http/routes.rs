//! What the lab's HTTP server answers to which request, decided without any I/O.

use hyper::Method;

/// The longest `/hold` accepted, in seconds.
pub const MAX_HOLD_SECS: u64 = 3600;
/// The largest `/bytes` body accepted (64 GiB).
pub const MAX_BYTES: u64 = 1 << 36;
/// The longest `/stream` accepted, in seconds.
pub const MAX_STREAM_SECS: u64 = 600;
/// The fastest `/stream` accepted, in bytes a second (1 GiB/s).
pub const MAX_STREAM_RATE: u64 = 1 << 30;
/// A `/stream` without `seconds=` lasts this long.
pub const DEFAULT_STREAM_SECS: u64 = 10;
/// A `/stream` without `rate=` sends this many bytes a second (256 KiB/s).
pub const DEFAULT_STREAM_RATE: u64 = 256 * 1024;

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `GET /` (and `/index.html`): the server's name and a newline.
    Index,
    /// `GET /hold?secs=N`: the name at once, then one byte a second for N seconds.
    Hold { secs: u64 },
    /// `GET /bytes?n=N`: N bytes of the deterministic pattern.
    Bytes { n: u64 },
    /// `GET /stream?seconds=N&rate=R`: `N * R` bytes of the pattern, trickled evenly over N
    /// seconds (both optional: [`DEFAULT_STREAM_SECS`], [`DEFAULT_STREAM_RATE`]).
    Stream { seconds: u64, rate: u64 },
    /// A path the server does not have.
    NotFound,
    /// A known path with a missing or bad parameter; the text says which.
    BadRequest(String),
    /// Anything but GET or HEAD.
    MethodNotAllowed,
}

/// Routes a request by method, path and query string.
pub(crate) fn route(method: &Method, path: &str, query: Option<&str>) -> Route {
    if method != Method::GET && method != Method::HEAD {
        return Route::MethodNotAllowed;
    }
    match path {
        "/" | "/index.html" => Route::Index,
        "/hold" => match number_param(query, "secs", MAX_HOLD_SECS) {
            Ok(secs) => Route::Hold { secs },
            Err(why) => Route::BadRequest(why),
        },
        "/bytes" => match number_param(query, "n", MAX_BYTES) {
            Ok(n) => Route::Bytes { n },
            Err(why) => Route::BadRequest(why),
        },
        "/stream" => {
            let seconds = optional_param(query, "seconds", DEFAULT_STREAM_SECS, MAX_STREAM_SECS);
            let rate = optional_param(query, "rate", DEFAULT_STREAM_RATE, MAX_STREAM_RATE);
            match (seconds, rate) {
                (Ok(seconds), Ok(rate)) => Route::Stream { seconds, rate },
                (Err(why), _) | (_, Err(why)) => Route::BadRequest(why),
            }
        }
        _ => Route::NotFound,
    }
}

/// The value of `key=<u64>` in `query`, at most `max`.
fn number_param(query: Option<&str>, key: &str, max: u64) -> Result<u64, String> {
    let value = raw_param(query, key).ok_or_else(|| format!("missing parameter {key}=<number>\n"))?;
    parse_number(key, value, max)
}

/// The value of `key=<u64>` in `query`, at most `max`; `default` when the key is absent.
fn optional_param(query: Option<&str>, key: &str, default: u64, max: u64) -> Result<u64, String> {
    raw_param(query, key).map_or(Ok(default), |value| parse_number(key, value, max))
}

/// The text after `key=` in `query`, if the key is there.
fn raw_param<'q>(query: Option<&'q str>, key: &str) -> Option<&'q str> {
    query
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
}

/// `value` as a whole number of at most `max`; the error names `key`.
fn parse_number(key: &str, value: &str, max: u64) -> Result<u64, String> {
    let number: u64 = value
        .parse()
        .map_err(|_| format!("parameter {key} must be a whole number, got {value:?}\n"))?;
    if number > max {
        return Err(format!("parameter {key} must be at most {max}\n"));
    }
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_is_the_root_and_index_html() {
        assert_eq!(route(&Method::GET, "/", None), Route::Index);
        assert_eq!(
            route(&Method::GET, "/index.html", Some("x=1")),
            Route::Index
        );
        assert_eq!(route(&Method::HEAD, "/", None), Route::Index);
    }

    #[test]
    fn hold_and_bytes_take_their_number() {
        assert_eq!(
            route(&Method::GET, "/hold", Some("secs=5")),
            Route::Hold { secs: 5 }
        );
        assert_eq!(
            route(&Method::GET, "/hold", Some("a=1&secs=0")),
            Route::Hold { secs: 0 }
        );
        assert_eq!(
            route(&Method::GET, "/bytes", Some("n=1048576")),
            Route::Bytes { n: 1_048_576 }
        );
    }

    #[test]
    fn bad_numbers_are_refused_with_a_reason() {
        for query in [
            None,
            Some("secs="),
            Some("secs=-1"),
            Some("secs=1x"),
            Some("secsx=1"),
            Some("secs=3601"),
        ] {
            match route(&Method::GET, "/hold", query) {
                Route::BadRequest(why) => assert!(why.contains("secs"), "{why}"),
                other => panic!("{query:?} gave {other:?}"),
            }
        }
        assert!(matches!(
            route(&Method::GET, "/bytes", Some("n=68719476737")),
            Route::BadRequest(_)
        ));
        assert_eq!(
            route(&Method::GET, "/bytes", Some("n=68719476736")),
            Route::Bytes { n: MAX_BYTES }
        );
    }

    #[test]
    fn other_paths_and_methods_are_refused() {
        assert_eq!(route(&Method::GET, "/nope", None), Route::NotFound);
        assert_eq!(
            route(&Method::GET, "/hold/", Some("secs=1")),
            Route::NotFound
        );
        assert_eq!(route(&Method::POST, "/", None), Route::MethodNotAllowed);
    }

    #[test]
    fn stream_takes_optional_seconds_and_rate() {
        let defaults = Route::Stream { seconds: DEFAULT_STREAM_SECS, rate: DEFAULT_STREAM_RATE };
        assert_eq!(route(&Method::GET, "/stream", None), defaults);
        assert_eq!(route(&Method::GET, "/stream", Some("x=1")), defaults);
        assert_eq!(
            route(&Method::GET, "/stream", Some("seconds=12")),
            Route::Stream { seconds: 12, rate: DEFAULT_STREAM_RATE }
        );
        assert_eq!(
            route(&Method::GET, "/stream", Some("rate=1000&seconds=3")),
            Route::Stream { seconds: 3, rate: 1000 }
        );
        assert_eq!(
            route(&Method::GET, "/stream", Some("seconds=600&rate=0")),
            Route::Stream { seconds: 600, rate: 0 }
        );
    }

    #[test]
    fn stream_refuses_bad_or_too_large_numbers() {
        for (query, key) in [
            ("seconds=601", "seconds"),
            ("seconds=", "seconds"),
            ("seconds=-1", "seconds"),
            ("rate=1073741825", "rate"),
            ("seconds=1&rate=fast", "rate"),
        ] {
            match route(&Method::GET, "/stream", Some(query)) {
                Route::BadRequest(why) => assert!(why.contains(key), "{query}: {why}"),
                other => panic!("{query:?} gave {other:?}"),
            }
        }
    }
}
