//! A small, strict JSON reader and writer.
//!
//! Why not `serde_json`? It is the largest single cost in a wasm build of this
//! crate, and the client reads only a handful of fields from each reply. This
//! module parses into a borrowed [`Value`] — strings without escapes point
//! into the input instead of being copied — keeps object keys in their
//! original order, and keeps numbers as their original text, so a value read
//! and written back (the draft we return on export) keeps its meaning
//! byte-for-byte, including integers beyond 2^53 and unknown keys.
//!
//! Limits: nesting deeper than [`MAX_DEPTH`] is an error rather than a stack
//! overflow, and nothing here panics on any input.

use std::borrow::Cow;

/// How deep arrays and objects may nest. Real replies nest under 10 levels;
/// the cap exists so hostile input cannot exhaust the (small) wasm stack.
pub const MAX_DEPTH: usize = 128;

/// A parsed JSON value. Strings and numbers borrow from the input when they
/// can; [`Value::into_owned`] detaches it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, kept as its original text (always valid JSON number syntax).
    Number(Cow<'a, str>),
    /// A string, unescaped.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Value<'a>>),
    /// An object, with keys in their original order.
    Object(Object<'a>),
}

/// A JSON object that keeps its keys in order (duplicates are kept too, as
/// written; lookups return the last one, as `JSON.parse` does).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object<'a> {
    entries: Vec<(Cow<'a, str>, Value<'a>)>,
}

/// Why a text is not valid JSON, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What was wrong.
    pub reason: &'static str,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid JSON at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for JsonError {}

/// Parses one JSON document (surrounding whitespace allowed).
pub fn parse(text: &str) -> Result<Value<'_>, JsonError> {
    let mut p = Parser {
        src: text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    let v = p.value()?;
    p.skip_ws();
    if p.pos != p.bytes.len() {
        return Err(p.err("trailing characters after the value"));
    }
    Ok(v)
}

impl<'a> Object<'a> {
    /// An empty object.
    pub fn new() -> Self {
        Object {
            entries: Vec::new(),
        }
    }

    /// The value of `key` (the last one if the key repeats).
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// A mutable reference to the value of `key`.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value<'a>> {
        self.entries
            .iter_mut()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Sets `key`, replacing an existing value in place (keeping its
    /// position) or appending.
    pub fn insert(&mut self, key: impl Into<Cow<'a, str>>, value: Value<'a>) {
        let key = key.into();
        match self.get_mut(&key) {
            Some(slot) => *slot = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Removes every entry for `key`, returning the last value.
    pub fn remove(&mut self, key: &str) -> Option<Value<'a>> {
        let mut removed = None;
        self.entries.retain_mut(|(k, v)| {
            if k == key {
                removed = Some(std::mem::replace(v, Value::Null));
                false
            } else {
                true
            }
        });
        removed
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value<'a>)> {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Detaches the object from the input it borrows from.
    pub fn into_owned(self) -> Object<'static> {
        Object {
            entries: self
                .entries
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                .collect(),
        }
    }
}

impl<'a, K: Into<Cow<'a, str>>> FromIterator<(K, Value<'a>)> for Object<'a> {
    fn from_iter<I: IntoIterator<Item = (K, Value<'a>)>>(iter: I) -> Self {
        let mut o = Object::new();
        for (k, v) in iter {
            o.insert(k, v);
        }
        o
    }
}

impl<'a> Value<'a> {
    /// A string value.
    pub fn str(s: impl Into<Cow<'a, str>>) -> Self {
        Value::String(s.into())
    }

    /// A number value from an integer.
    pub fn int(n: i64) -> Self {
        Value::Number(Cow::Owned(crate::core::format::Int::from(n).to_string()))
    }

    /// A number value from a float; non-finite numbers become `null`, as in
    /// `JSON.stringify`.
    pub fn float(n: f64) -> Self {
        if n.is_finite() {
            Value::Number(Cow::Owned(format_f64(n)))
        } else {
            Value::Null
        }
    }

    /// An object built from `(key, value)` pairs.
    pub fn object<K: Into<Cow<'a, str>>>(pairs: impl IntoIterator<Item = (K, Value<'a>)>) -> Self {
        Value::Object(pairs.into_iter().collect())
    }

    /// `obj[key]`, or `None` if this is not an object or has no such key.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Object(o) => o.get(key),
            _ => None,
        }
    }

    /// Follows a path of object keys: `v.pointer(&["data", "status"])`.
    pub fn pointer(&self, path: &[&str]) -> Option<&Value<'a>> {
        path.iter().try_fold(self, |v, k| v.get(k))
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number as `f64`, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => crate::core::number::parse_f64(n),
            _ => None,
        }
    }

    /// The number as `i64`, if it is an integer in range (`3.0` counts).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.parse().ok().or_else(|| {
                let f = crate::core::number::parse_f64(n)?;
                (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
            }),
            _ => None,
        }
    }

    /// The number as `u64`, if it is a non-negative integer in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_i64().and_then(|n| u64::try_from(n).ok())
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The object, if this is an object.
    pub fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Detaches the value from the input it borrows from.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Number(n) => Value::Number(Cow::Owned(n.into_owned())),
            Value::String(s) => Value::String(Cow::Owned(s.into_owned())),
            Value::Array(a) => Value::Array(a.into_iter().map(Value::into_owned).collect()),
            Value::Object(o) => Value::Object(o.into_owned()),
        }
    }

    /// Compact JSON text.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// Appends compact JSON text to `out`.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(n) => out.push_str(n),
            Value::String(s) => write_string(s, out),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Object(o) => {
                out.push('{');
                for (i, (k, v)) in o.entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(k, out);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

/// Writes `s` as a JSON string literal, escaping what JSON requires plus
/// U+2028/U+2029 (so the output is also safe inside a `<script>` block).
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, ch) in s.char_indices() {
        let esc: Option<&str> = match ch {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{2028}' => Some("\\u2028"),
            '\u{2029}' => Some("\\u2029"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.push_str(s.get(start..i).unwrap_or_default());
        match esc {
            Some(e) => out.push_str(e),
            None => {
                // A control character: `\u00XX`, by hand rather than through
                // `{:04x}` (which links in the formatter's hex and padding).
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let n = ch as u32;
                out.push_str("\\u00");
                out.push(char::from(HEX[(n >> 4 & 0xF) as usize]));
                out.push(char::from(HEX[(n & 0xF) as usize]));
            }
        }
        start = i + ch.len_utf8();
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// Up to 9 decimals: plenty for the values a client builds (volumes,
/// seconds), without Rust's float formatting in the wasm build.
fn format_f64(n: f64) -> String {
    crate::core::format::decimal(n, 9)
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, reason: &'static str) -> JsonError {
        JsonError {
            offset: self.pos,
            reason,
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn value(&mut self) -> Result<Value<'a>, JsonError> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
            None => Err(self.err("unexpected end of input")),
        }
    }

    fn literal(&mut self, word: &'static str, v: Value<'a>) -> Result<Value<'a>, JsonError> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        if rest.starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.err("unknown literal"))
        }
    }

    fn enter(&mut self) -> Result<(), JsonError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(self.err("nested too deeply"))
        } else {
            Ok(())
        }
    }

    fn object(&mut self) -> Result<Value<'a>, JsonError> {
        self.enter()?;
        self.pos += 1; // '{'
        let mut obj = Object::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Object(obj));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a string key"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.pos += 1;
            self.skip_ws();
            let v = self.value()?;
            // Keep duplicates as written (lookups take the last), so a
            // round-trip never silently changes a document.
            obj.entries.push((key, v));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::Object(obj));
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self) -> Result<Value<'a>, JsonError> {
        self.enter()?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn number(&mut self) -> Result<Value<'a>, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.err("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("expected a digit after '.'"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("expected a digit in the exponent"));
            }
            self.digits();
        }
        let text = self.src.get(start..self.pos).unwrap_or_default();
        Ok(Value::Number(Cow::Borrowed(text)))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// Reads a string literal. Fast path: no escapes → borrow the input.
    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        self.pos += 1; // opening quote
        let start = self.pos;
        let rest = self.bytes.get(start..).unwrap_or_default();
        let Some(stop) = memchr::memchr2(b'"', b'\\', rest) else {
            return Err(self.err("unterminated string"));
        };
        // JSON forbids raw control characters inside strings.
        let body = rest.get(..stop).unwrap_or_default();
        if let Some(bad) = body.iter().position(|&b| b < 0x20) {
            self.pos = start + bad;
            return Err(self.err("control character in string"));
        }
        // `stop` is at an ASCII byte, so this is on a char boundary.
        let text = self.src.get(start..start + stop).unwrap_or_default();
        if rest.get(stop) == Some(&b'"') {
            self.pos = start + stop + 1;
            return Ok(Cow::Borrowed(text));
        }
        // An escape: copy what came before it and continue on the slow path.
        let mut out = String::with_capacity(stop + 16);
        out.push_str(text);
        self.pos = start + stop;
        self.string_slow(out).map(Cow::Owned)
    }

    fn string_slow(&mut self, mut out: String) -> Result<String, JsonError> {
        loop {
            let rest = self.bytes.get(self.pos..).unwrap_or_default();
            let Some(stop) = memchr::memchr2(b'"', b'\\', rest) else {
                return Err(self.err("unterminated string"));
            };
            let body = rest.get(..stop).unwrap_or_default();
            if let Some(bad) = body.iter().position(|&b| b < 0x20) {
                self.pos += bad;
                return Err(self.err("control character in string"));
            }
            out.push_str(self.src.get(self.pos..self.pos + stop).unwrap_or_default());
            self.pos += stop;
            if rest.get(stop) == Some(&b'"') {
                self.pos += 1;
                return Ok(out);
            }
            // Backslash escape.
            self.pos += 1;
            let Some(e) = self.peek() else {
                return Err(self.err("unterminated escape"));
            };
            self.pos += 1;
            match e {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let hi = self.hex4()?;
                    let ch = if (0xD800..0xDC00).contains(&hi) {
                        // A high surrogate must pair with a following \uDC00..DFFF;
                        // a lone one becomes U+FFFD, as a lenient decoder would.
                        let next = self.bytes.get(self.pos..).unwrap_or_default();
                        if next.starts_with(b"\\u") {
                            let save = self.pos;
                            self.pos += 2;
                            let lo = self.hex4()?;
                            if (0xDC00..0xE000).contains(&lo) {
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            } else {
                                self.pos = save;
                                None
                            }
                        } else {
                            None
                        }
                    } else {
                        char::from_u32(hi)
                    };
                    out.push(ch.unwrap_or('\u{FFFD}'));
                }
                _ => {
                    self.pos -= 1;
                    return Err(self.err("invalid escape"));
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let Some(h) = self.bytes.get(self.pos..self.pos + 4) else {
            return Err(self.err("truncated \\u escape"));
        };
        let mut n = 0u32;
        for &b in h {
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return Err(self.err("invalid \\u escape")),
            };
            n = n * 16 + u32::from(d);
        }
        self.pos += 4;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_value() {
        let v = parse(r#" {"a":[1,-2.5e3,true,false,null],"b":{"c":"d"},"e":""} "#).unwrap();
        assert_eq!(v.pointer(&["b", "c"]).and_then(Value::as_str), Some("d"));
        let a = v.get("a").and_then(Value::as_array).unwrap();
        assert_eq!(a[0].as_i64(), Some(1));
        assert_eq!(a[1].as_f64(), Some(-2500.0));
        assert_eq!(a[2].as_bool(), Some(true));
        assert!(a[4].is_null());
        assert_eq!(v.get("e").and_then(Value::as_str), Some(""));
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let v = parse(r#"{"text":"hello ☀️"}"#).unwrap();
        match v.get("text") {
            Some(Value::String(Cow::Borrowed(s))) => assert_eq!(*s, "hello ☀️"),
            other => panic!("expected a borrowed string, got {other:?}"),
        }
    }

    #[test]
    fn unescapes_strings() {
        let v = parse(r#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00\ud800x""#).unwrap();
        assert_eq!(v.as_str(), Some("a\"b\\c/d\n\té😀\u{FFFD}x"));
    }

    #[test]
    fn round_trip_keeps_order_numbers_and_unknown_keys() {
        let text = r#"{"z":1,"a":12345678901234567890,"f":1.50,"u":{"x":[]},"s":"q\"\u2028"}"#;
        let v = parse(text).unwrap();
        let out = v.to_json();
        assert_eq!(
            out,
            r#"{"z":1,"a":12345678901234567890,"f":1.50,"u":{"x":[]},"s":"q\"\u2028"}"#
        );
        assert_eq!(parse(&out).unwrap(), v);
    }

    #[test]
    fn rejects_invalid_documents_without_panicking() {
        let bad = [
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "{\"a\"}",
            "{\"a\":}",
            "01",
            "1.",
            "-",
            "1e",
            "tru",
            "\"abc",
            "\"\\x\"",
            "\"\\u12\"",
            "\"a\nb\"",
            "[1 2]",
            "{\"a\":1,}",
            "<html>",
            "nul",
            "\"\\",
            "1 2",
            "\u{0}",
        ];
        for text in bad {
            assert!(parse(text).is_err(), "accepted {text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert_eq!(parse(&deep).unwrap_err().reason, "nested too deeply");
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn duplicate_keys_read_the_last_and_write_all() {
        let v = parse(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(v.get("a").and_then(Value::as_i64), Some(2));
        assert_eq!(v.to_json(), r#"{"a":1,"a":2}"#);
    }

    #[test]
    fn builders_and_mutation() {
        let mut o = Object::new();
        o.insert("b", Value::int(2));
        o.insert("a", Value::str("x"));
        o.insert("b", Value::float(2.5));
        assert_eq!(Value::Object(o.clone()).to_json(), r#"{"b":2.5,"a":"x"}"#);
        assert_eq!(o.remove("b").and_then(|v| v.as_f64()), Some(2.5));
        assert_eq!(Value::float(f64::NAN), Value::Null);
        assert_eq!(Value::float(3.0).to_json(), "3");
        let mut s = String::new();
        write_string("\u{1}<", &mut s);
        assert_eq!(s, "\"\\u0001<\"");
    }
}
