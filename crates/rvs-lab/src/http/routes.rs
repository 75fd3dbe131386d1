//! What the lab's HTTP server answers to which request, decided without any I/O.

use hyper::Method;

/// The longest `/hold` accepted, in seconds.
pub const MAX_HOLD_SECS: u64 = 3600;
/// The largest `/bytes` body accepted (64 GiB).
pub const MAX_BYTES: u64 = 1 << 36;

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `GET /` (and `/index.html`): the server's name and a newline.
    Index,
    /// `GET /hold?secs=N`: the name at once, then one byte a second for N seconds.
    Hold { secs: u64 },
    /// `GET /bytes?n=N`: N bytes of the deterministic pattern.
    Bytes { n: u64 },
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
        _ => Route::NotFound,
    }
}

/// The value of `key=<u64>` in `query`, at most `max`.
fn number_param(query: Option<&str>, key: &str, max: u64) -> Result<u64, String> {
    let value = query
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
        .ok_or_else(|| format!("missing parameter {key}=<number>\n"))?;
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
}
