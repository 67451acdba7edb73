//! The JSON of safetensors headers: a strict parser (RFC 8259) and a compact printer for
//! error messages.
//!
//! A header is untrusted input, so parsing is complete, not a subset: any JSON text is read,
//! and anything else is refused with the line and column of the first bad character. Keys
//! seen twice in one object are reported rather than silently dropped (a second entry for a
//! tensor name would be a tensor lost). Numbers keep their text: the header's integers are
//! read exactly, and an error message shows a value as it was written.
//!
//! (In place of `serde_json`, whose compile time was a tenth of a clean build's.)

/// A JSON value. Objects keep their keys in file order.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Null,
    Bool(bool),
    /// The number's text, as written (validated against JSON's grammar).
    Number(String),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// Why a text is not (acceptable) JSON.
#[derive(Debug, PartialEq)]
pub(super) enum JsonError {
    /// Not JSON: what was expected, at a 1-based line and column.
    Syntax { expected: &'static str, line: usize, column: usize },
    /// A key twice in one object; `depth` 1 is the outermost object.
    DuplicateKey { key: String, depth: usize },
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonError::Syntax { expected, line, column } => {
                write!(f, "expected {expected} at line {line} column {column}")
            }
            JsonError::DuplicateKey { key, .. } => write!(f, "key {key:?} appears twice in one object"),
        }
    }
}

impl Value {
    /// The value of a non-negative integer literal that fits in u64 (not `1.0`, not `1e3`).
    pub(super) fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(text) if text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
            _ => None,
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Compact JSON, as the value would be written: `[1,2]`, `{"a":"b"}`.
impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(text) => f.write_str(text),
            Value::String(s) => write_string(f, s),
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Object(fields) => {
                f.write_str("{")?;
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write_string(f, key)?;
                    write!(f, ":{value}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// `s` as a JSON string literal: quotes, backslashes and control characters escaped.
pub(super) fn write_string(out: &mut impl std::fmt::Write, s: &str) -> std::fmt::Result {
    out.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            '\u{8}' => out.write_str("\\b")?,
            '\u{c}' => out.write_str("\\f")?,
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32)?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

/// Parses a whole JSON text (one value, whitespace around it).
pub(super) fn parse(text: &str) -> Result<Value, JsonError> {
    let mut parser = Parser { bytes: text.as_bytes(), at: 0, depth: 0 };
    parser.space();
    let value = parser.value()?;
    parser.space();
    if parser.at < parser.bytes.len() {
        return Err(parser.error("the end of the text"));
    }
    Ok(value)
}

/// Nesting deeper than this is refused (no header needs it; it bounds the recursion).
const MAX_DEPTH: usize = 128;

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, expected: &'static str) -> JsonError {
        let before = &self.bytes[..self.at.min(self.bytes.len())];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        // Columns count characters, not bytes.
        let column = 1 + String::from_utf8_lossy(&before[line_start..]).chars().count();
        JsonError::Syntax { expected, line, column }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8, expected: &'static str) -> Result<(), JsonError> {
        if self.peek() != Some(byte) {
            return Err(self.error(expected));
        }
        self.at += 1;
        Ok(())
    }

    fn value(&mut self) -> Result<Value, JsonError> {
        match self.peek() {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => {
                for (word, value) in [("true", Value::Bool(true)), ("false", Value::Bool(false)), ("null", Value::Null)]
                {
                    if self.bytes[self.at..].starts_with(word.as_bytes()) {
                        self.at += word.len();
                        return Ok(value);
                    }
                }
                Err(self.error("value"))
            }
        }
    }

    fn nested(&mut self, inner: fn(&mut Self) -> Result<Value, JsonError>) -> Result<Value, JsonError> {
        if self.depth == MAX_DEPTH {
            return Err(self.error("at most 128 levels of nesting"));
        }
        self.depth += 1;
        let value = inner(self);
        self.depth -= 1;
        value
    }

    fn object(&mut self) -> Result<Value, JsonError> {
        self.at += 1; // '{'
        let mut fields: Vec<(String, Value)> = Vec::new();
        self.space();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Object(fields));
        }
        loop {
            self.space();
            if self.peek() != Some(b'"') {
                return Err(self.error("a string key"));
            }
            let key = self.string()?;
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(JsonError::DuplicateKey { key, depth: self.depth });
            }
            self.space();
            self.eat(b':', "`:`")?;
            self.space();
            let value = self.value()?;
            fields.push((key, value));
            self.space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Value::Object(fields));
                }
                _ => return Err(self.error("`,` or `}`")),
            }
        }
    }

    fn array(&mut self) -> Result<Value, JsonError> {
        self.at += 1; // '['
        let mut items = Vec::new();
        self.space();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.space();
            items.push(self.value()?);
            self.space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("`,` or `]`")),
            }
        }
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.at;
        let digits = |p: &mut Self| {
            let from = p.at;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.at += 1;
            }
            p.at > from
        };
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error("a digit")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !digits(self) {
                return Err(self.error("a digit after the decimal point"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !digits(self) {
                return Err(self.error("a digit in the exponent"));
            }
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).expect("ASCII digits");
        Ok(Value::Number(text.to_string()))
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.at += 1; // '"'
        let mut out = String::new();
        loop {
            let start = self.at;
            while let Some(b) = self.peek()
                && b != b'"'
                && b != b'\\'
                && b >= 0x20
            {
                self.at += 1;
            }
            // The text is UTF-8 and the run stops at ASCII bytes: a valid slice.
            out.push_str(std::str::from_utf8(&self.bytes[start..self.at]).expect("UTF-8 input"));
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.at += 1;
                            let c = self.unicode_escape()?;
                            out.push(c);
                            continue;
                        }
                        _ => return Err(self.error("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)")),
                    };
                    self.at += 1;
                    out.push(c);
                }
                Some(_) => return Err(self.error("no control characters in a string (escape them)")),
                None => return Err(self.error("`\"` closing the string")),
            }
        }
    }

    /// The character of `XXXX` (after `\u`), or of a surrogate pair `XXXX\uYYYY`.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if !self.bytes[self.at..].starts_with(b"\\u") {
                return Err(self.error("`\\u` with the low half of a surrogate pair"));
            }
            self.at += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error("the low half of a surrogate pair"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.error("a Unicode scalar value (a lone low surrogate is not)"))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self.bytes.get(self.at..self.at + 4).and_then(|d| std::str::from_utf8(d).ok());
        match digits.and_then(|d| u32::from_str_radix(d, 16).ok().filter(|_| d.bytes().all(|b| b.is_ascii_hexdigit())))
        {
            Some(code) => {
                self.at += 4;
                Ok(code)
            }
            None => Err(self.error("four hex digits")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn reads_every_kind_of_value() {
        let v = parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\\n\"], \"b\": {}} ").unwrap();
        assert_eq!(v.to_string(), "{\"a\":[1,-2.5e3,true,false,null,\"xé😀\\n\"],\"b\":{}}");
        assert_eq!(v.get("a"), Some(&parse("[1,-2.5e3,true,false,null,\"xé😀\\n\"]").unwrap()));
        assert_eq!(parse("18446744073709551615").unwrap().as_u64(), Some(u64::MAX));
        assert_eq!(parse("18446744073709551616").unwrap().as_u64(), None);
        for not_u64 in ["-1", "1.0", "1e3", "\"1\""] {
            assert_eq!(parse(not_u64).unwrap().as_u64(), None, "{not_u64}");
        }
    }

    #[test]
    fn refuses_what_is_not_json_with_the_place() {
        assert_eq!(err("{\"a\": }"), "expected value at line 1 column 7");
        assert_eq!(err("{\"a\": 1,\n \"b\" 2}"), "expected `:` at line 2 column 6");
        assert_eq!(err("[1, 2"), "expected `,` or `]` at line 1 column 6");
        assert_eq!(err("{'a': 1}"), "expected a string key at line 1 column 2");
        assert_eq!(err("[01]"), "expected `,` or `]` at line 1 column 3");
        assert_eq!(err("[1.]"), "expected a digit after the decimal point at line 1 column 4");
        assert_eq!(err("\"tab\there\""), "expected no control characters in a string (escape them) at line 1 column 5");
        assert_eq!(err("\"\\x\""), "expected an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u) at line 1 column 3");
        assert_eq!(err("\"\\ud800\""), "expected `\\u` with the low half of a surrogate pair at line 1 column 8");
        assert_eq!(err("{} x"), "expected the end of the text at line 1 column 4");
        assert_eq!(err(""), "expected value at line 1 column 1");
        assert_eq!(err(&"[".repeat(200)), "expected at most 128 levels of nesting at line 1 column 129");
    }

    #[test]
    fn keys_twice_in_one_object_are_found_at_their_depth() {
        assert_eq!(parse("{\"a\":1,\"\\u0061\":2}"), Err(JsonError::DuplicateKey { key: "a".into(), depth: 1 }));
        assert_eq!(parse("{\"w\":{\"k\":1,\"k\":2}}"), Err(JsonError::DuplicateKey { key: "k".into(), depth: 2 }));
        assert!(parse("{\"a\":{\"k\":1},\"b\":{\"k\":2}}").is_ok(), "equal keys in different objects are fine");
    }
}
