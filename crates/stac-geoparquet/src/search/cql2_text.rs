//! CQL2 text to CQL2 JSON, so that both encodings share one evaluator
//! ([`super::cql2_json`]). The JSON produced is what the reference parser
//! (the `cql2` library stac-fastapi-pgstac uses) produces for the same text.
//!
//! Grammar (OGC CQL2, the parts [`super::cql2_json`] evaluates): `AND`,
//! `OR`, `NOT`, parentheses; `= <> < <= > >=`; `[NOT] LIKE`,
//! `[NOT] BETWEEN a AND b`, `[NOT] IN (...)`, `IS [NOT] NULL`; `+ - * /`;
//! literals (`'text'` with `''` escapes, numbers, `TRUE`/`FALSE`,
//! `TIMESTAMP('…')`, `DATE('…')`, `INTERVAL('…', '…')`, `BBOX(…)`, WKT
//! geometries); properties (`name`, `"quoted name"`); function calls
//! (`S_INTERSECTS(a, b)`, `T_DURING(…)`, `A_CONTAINS(…)`, `CASEI(…)`, …);
//! lists `('a', 'b')`. Keywords are case-insensitive.

use serde_json::{Map, Value, json};

/// Deepest nesting accepted (parentheses, NOT, functions).
const MAX_DEPTH: usize = 64;
/// Longest filter text accepted.
const MAX_LEN: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Quoted(String),
    Str(String),
    Num(f64),
    LParen,
    RParen,
    Comma,
    Op(&'static str),
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    if text.len() > MAX_LEN {
        return Err(format!("the filter is longer than {MAX_LEN} bytes"));
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string literal".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated quoted property name".into()),
                        Some('"') if chars.get(i + 1) == Some(&'"') => {
                            s.push('"');
                            i += 2;
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Quoted(s));
            }
            '<' | '>' | '=' | '!' => {
                let (op, len) = match (c, chars.get(i + 1).copied()) {
                    ('<', Some('=')) => ("<=", 2),
                    ('>', Some('=')) => (">=", 2),
                    ('<', Some('>')) | ('!', Some('=')) => ("<>", 2),
                    ('<', _) => ("<", 1),
                    ('>', _) => (">", 1),
                    ('=', _) => ("=", 1),
                    _ => return Err("unexpected '!'".into()),
                };
                i += len;
                out.push(Tok::Op(op));
            }
            '+' | '-' | '*' | '/' => {
                out.push(Tok::Op(match c {
                    '+' => "+",
                    '-' => "-",
                    '*' => "*",
                    _ => "/",
                }));
                i += 1;
            }
            c if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                    let mut j = i + 1;
                    if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                        j += 1;
                    }
                    if j < chars.len() && chars[j].is_ascii_digit() {
                        i = j;
                        while i < chars.len() && chars[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
                let s: String = chars[start..i].iter().collect();
                let n: f64 = s.parse().map_err(|_| format!("bad number {s:?}"))?;
                out.push(Tok::Num(n));
            }
            c if c.is_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | ':' | '.'))
                {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character {other:?}")),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

fn kw(t: Option<&Tok>, word: &str) -> bool {
    matches!(t, Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(word))
}

fn op(name: &str, args: Vec<Value>) -> Value {
    json!({"op": name, "args": args})
}

fn not(v: Value) -> Value {
    op("not", vec![v])
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat_kw(&mut self, word: &str) -> bool {
        if kw(self.peek(), word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Tok) -> Result<(), String> {
        match self.next() {
            Some(ref got) if got == t => Ok(()),
            got => Err(format!("expected {t:?}, found {got:?}")),
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(format!(
                "the filter is nested deeper than {MAX_DEPTH} levels"
            ))
        } else {
            Ok(())
        }
    }

    fn or(&mut self) -> Result<Value, String> {
        self.enter()?;
        let mut parts = vec![self.and()?];
        while self.eat_kw("OR") {
            parts.push(self.and()?);
        }
        self.depth -= 1;
        Ok(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            op("or", parts)
        })
    }

    fn and(&mut self) -> Result<Value, String> {
        let mut parts = vec![self.not()?];
        while self.eat_kw("AND") {
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            op("and", parts)
        })
    }

    fn not(&mut self) -> Result<Value, String> {
        if self.eat_kw("NOT") {
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(not(inner));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Value, String> {
        let left = self.additive()?;
        if let Some(Tok::Op(o)) = self.peek() {
            if matches!(*o, "=" | "<>" | "<" | "<=" | ">" | ">=") {
                let o = *o;
                self.pos += 1;
                let right = self.additive()?;
                return Ok(op(o, vec![left, right]));
            }
        }
        let negated = kw(self.peek(), "NOT")
            && (kw(self.peek_at(1), "LIKE")
                || kw(self.peek_at(1), "BETWEEN")
                || kw(self.peek_at(1), "IN"));
        if negated {
            self.pos += 1;
        }
        let wrap = |v: Value| if negated { not(v) } else { v };
        if self.eat_kw("LIKE") {
            let pattern = self.additive()?;
            return Ok(wrap(op("like", vec![left, pattern])));
        }
        if self.eat_kw("BETWEEN") {
            let lo = self.additive()?;
            if !self.eat_kw("AND") {
                return Err("BETWEEN needs AND".into());
            }
            let hi = self.additive()?;
            return Ok(wrap(op("between", vec![left, lo, hi])));
        }
        if self.eat_kw("IN") {
            self.expect(&Tok::LParen)?;
            let list = self.list_items()?;
            return Ok(wrap(op("in", vec![left, Value::Array(list)])));
        }
        if self.eat_kw("IS") {
            let neg = self.eat_kw("NOT");
            if !self.eat_kw("NULL") {
                return Err("IS [NOT] must be followed by NULL".into());
            }
            let v = op("isNull", vec![left]);
            return Ok(if neg { not(v) } else { v });
        }
        Ok(left)
    }

    /// Items up to the closing parenthesis (the opening one was eaten).
    fn list_items(&mut self) -> Result<Vec<Value>, String> {
        let mut items = Vec::new();
        if self.peek() == Some(&Tok::RParen) {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.or()?);
            match self.next() {
                Some(Tok::Comma) => continue,
                Some(Tok::RParen) => return Ok(items),
                got => return Err(format!("expected ',' or ')', found {got:?}")),
            }
        }
    }

    fn additive(&mut self) -> Result<Value, String> {
        let mut left = self.multiplicative()?;
        while let Some(Tok::Op(o @ ("+" | "-"))) = self.peek() {
            let o = *o;
            self.pos += 1;
            let right = self.multiplicative()?;
            left = op(o, vec![left, right]);
        }
        Ok(left)
    }

    fn multiplicative(&mut self) -> Result<Value, String> {
        let mut left = self.unary()?;
        while let Some(Tok::Op(o @ ("*" | "/"))) = self.peek() {
            let o = *o;
            self.pos += 1;
            let right = self.unary()?;
            left = op(o, vec![left, right]);
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Value, String> {
        if self.peek() == Some(&Tok::Op("-")) {
            self.pos += 1;
            return Ok(match self.unary()? {
                Value::Number(n) => number(-n.as_f64().unwrap_or(0.0)),
                other => op("*", vec![json!(-1), other]),
            });
        }
        if self.peek() == Some(&Tok::Op("+")) {
            self.pos += 1;
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Value, String> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(number(n)),
            Some(Tok::Str(s)) => Ok(Value::String(s)),
            Some(Tok::Quoted(s)) => Ok(json!({"property": s})),
            Some(Tok::LParen) => {
                self.enter()?;
                let items = self.list_items()?;
                self.depth -= 1;
                match items.len() {
                    1 => Ok(items.into_iter().next().expect("one")),
                    _ => Ok(Value::Array(items)),
                }
            }
            Some(Tok::Ident(name)) => {
                let upper = name.to_ascii_uppercase();
                match upper.as_str() {
                    "TRUE" => return Ok(Value::Bool(true)),
                    "FALSE" => return Ok(Value::Bool(false)),
                    "NULL" => return Ok(Value::Null),
                    _ => {}
                }
                if is_wkt(&upper) && self.wkt_follows() {
                    return self.geometry(&upper);
                }
                if self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    self.enter()?;
                    let args = self.list_items()?;
                    self.depth -= 1;
                    return function(&name, args);
                }
                Ok(json!({"property": name}))
            }
            got => Err(format!("expected a value, found {got:?}")),
        }
    }

    /// After a WKT keyword: `(`, `Z (`, or `EMPTY`.
    fn wkt_follows(&self) -> bool {
        match self.peek() {
            Some(Tok::LParen) => true,
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("EMPTY") => true,
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("Z") => {
                self.peek_at(1) == Some(&Tok::LParen) || kw(self.peek_at(1), "EMPTY")
            }
            _ => false,
        }
    }

    fn geometry(&mut self, kind: &str) -> Result<Value, String> {
        self.enter()?;
        self.eat_kw("Z");
        let empty = self.eat_kw("EMPTY");
        let name = match kind {
            "POINT" => "Point",
            "LINESTRING" => "LineString",
            "POLYGON" => "Polygon",
            "MULTIPOINT" => "MultiPoint",
            "MULTILINESTRING" => "MultiLineString",
            "MULTIPOLYGON" => "MultiPolygon",
            _ => "GeometryCollection",
        };
        let v = if name == "GeometryCollection" {
            let mut parts = Vec::new();
            if !empty {
                self.expect(&Tok::LParen)?;
                loop {
                    match self.next() {
                        Some(Tok::Ident(k)) if is_wkt(&k.to_ascii_uppercase()) => {
                            parts.push(self.geometry(&k.to_ascii_uppercase())?);
                        }
                        got => return Err(format!("expected a WKT geometry, found {got:?}")),
                    }
                    match self.next() {
                        Some(Tok::Comma) => continue,
                        Some(Tok::RParen) => break,
                        got => return Err(format!("expected ',' or ')', found {got:?}")),
                    }
                }
            }
            json!({"type": name, "geometries": parts})
        } else {
            let depth = match name {
                "Point" => 0,
                "LineString" | "MultiPoint" => 1,
                "Polygon" | "MultiLineString" => 2,
                _ => 3,
            };
            let coords = if empty {
                Value::Array(Vec::new())
            } else if name == "Point" {
                self.expect(&Tok::LParen)?;
                let p = self.position()?;
                self.expect(&Tok::RParen)?;
                p
            } else {
                self.coords(depth, name == "MultiPoint")?
            };
            json!({"type": name, "coordinates": coords})
        };
        self.depth -= 1;
        Ok(v)
    }

    /// `x y [z]`.
    fn position(&mut self) -> Result<Value, String> {
        let mut nums = Vec::new();
        loop {
            let neg = if self.peek() == Some(&Tok::Op("-")) {
                self.pos += 1;
                true
            } else {
                false
            };
            match self.peek() {
                Some(Tok::Num(n)) => {
                    let n = if neg { -*n } else { *n };
                    self.pos += 1;
                    nums.push(number(n));
                }
                _ if neg => return Err("expected a number after '-'".into()),
                _ => break,
            }
        }
        if nums.len() < 2 || nums.len() > 3 {
            return Err(format!(
                "a WKT position has 2 or 3 numbers, not {}",
                nums.len()
            ));
        }
        Ok(Value::Array(nums))
    }

    /// A parenthesised list nested `depth` deep (1: positions).
    /// `bare_points`: MULTIPOINT may list positions without their own parentheses.
    fn coords(&mut self, depth: usize, bare_points: bool) -> Result<Value, String> {
        self.enter()?;
        self.expect(&Tok::LParen)?;
        let mut items = Vec::new();
        loop {
            let item = if depth == 1 {
                if bare_points && self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    let p = self.position()?;
                    self.expect(&Tok::RParen)?;
                    p
                } else {
                    self.position()?
                }
            } else {
                self.coords(depth - 1, false)?
            };
            items.push(item);
            match self.next() {
                Some(Tok::Comma) => continue,
                Some(Tok::RParen) => break,
                got => return Err(format!("expected ',' or ')' in WKT, found {got:?}")),
            }
        }
        self.depth -= 1;
        Ok(Value::Array(items))
    }
}

fn is_wkt(upper: &str) -> bool {
    matches!(
        upper,
        "POINT"
            | "LINESTRING"
            | "POLYGON"
            | "MULTIPOINT"
            | "MULTILINESTRING"
            | "MULTIPOLYGON"
            | "GEOMETRYCOLLECTION"
    )
}

/// Integral numbers stay integers in the JSON (as the reference parser writes them).
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        json!(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

fn function(name: &str, args: Vec<Value>) -> Result<Value, String> {
    let upper = name.to_ascii_uppercase();
    let one_string = |args: &[Value]| -> Result<String, String> {
        match args {
            [Value::String(s)] => Ok(s.clone()),
            _ => Err(format!("{upper} takes one string")),
        }
    };
    Ok(match upper.as_str() {
        "TIMESTAMP" => json!({"timestamp": one_string(&args)?}),
        "DATE" => json!({"date": one_string(&args)?}),
        "INTERVAL" => {
            if args.len() != 2 {
                return Err("INTERVAL takes two arguments".into());
            }
            json!({"interval": args})
        }
        "BBOX" => {
            if !(args.len() == 4 || args.len() == 6) || !args.iter().all(Value::is_number) {
                return Err("BBOX takes 4 or 6 numbers".into());
            }
            json!({"bbox": args})
        }
        _ => {
            let mut m = Map::new();
            m.insert("op".into(), Value::String(name.to_ascii_lowercase()));
            m.insert("args".into(), Value::Array(args));
            Value::Object(m)
        }
    })
}

/// CQL2 text to CQL2 JSON.
pub(crate) fn to_json(text: &str) -> Result<Value, String> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err("the filter is empty".into());
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let v = p.or()?;
    match p.peek() {
        None => Ok(v),
        Some(t) => Err(format!("unexpected {t:?} after the end of the filter")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_becomes_cql2_json() {
        let cases = [
            (
                "\"eo:cloud_cover\" < 10 AND collection = 'a'",
                json!({"op": "and", "args": [
                    {"op": "<", "args": [{"property": "eo:cloud_cover"}, 10]},
                    {"op": "=", "args": [{"property": "collection"}, "a"]}]}),
            ),
            (
                "id NOT LIKE 'x%' OR platform IS NULL",
                json!({"op": "or", "args": [
                    {"op": "not", "args": [{"op": "like", "args": [{"property": "id"}, "x%"]}]},
                    {"op": "isNull", "args": [{"property": "platform"}]}]}),
            ),
            (
                "x BETWEEN -1 AND 2.5 AND y IN ('a', 'b''c')",
                json!({"op": "and", "args": [
                    {"op": "between", "args": [{"property": "x"}, -1, 2.5]},
                    {"op": "in", "args": [{"property": "y"}, ["a", "b'c"]]}]}),
            ),
            (
                "S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 0))) and t_intersects(datetime, INTERVAL('2023-01-01T00:00:00Z', '..'))",
                json!({"op": "and", "args": [
                    {"op": "s_intersects", "args": [{"property": "geometry"},
                        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}]},
                    {"op": "t_intersects", "args": [{"property": "datetime"},
                        {"interval": ["2023-01-01T00:00:00Z", ".."]}]}]}),
            ),
            (
                "NOT (a = 1 OR b <> TIMESTAMP('2023-01-01T00:00:00Z'))",
                json!({"op": "not", "args": [{"op": "or", "args": [
                    {"op": "=", "args": [{"property": "a"}, 1]},
                    {"op": "<>", "args": [{"property": "b"}, {"timestamp": "2023-01-01T00:00:00Z"}]}]}]}),
            ),
            (
                "s_intersects(geometry, POINT(-1.5 2)) AND (a + 2) * 3 >= 9",
                json!({"op": "and", "args": [
                    {"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [-1.5, 2]}]},
                    {"op": ">=", "args": [{"op": "*", "args": [{"op": "+", "args": [{"property": "a"}, 2]}, 3]}, 9]}]}),
            ),
            (
                "A_CONTAINS(tags, ('x', 'y')) AND CASEI(title) LIKE CASEI('%sea%')",
                json!({"op": "and", "args": [
                    {"op": "a_contains", "args": [{"property": "tags"}, ["x", "y"]]},
                    {"op": "like", "args": [{"op": "casei", "args": [{"property": "title"}]}, {"op": "casei", "args": ["%sea%"]}]}]}),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(to_json(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn bad_text_is_an_error() {
        for bad in [
            "",
            "a = ",
            "a = 'open",
            "a BETWEEN 1 2",
            "a IS 3",
            "POINT(1)",
            "s_intersects(geometry, POLYGON((0 0, 1 x)))",
            "a = 1 b",
            "a # 1",
        ] {
            assert!(to_json(bad).is_err(), "{bad}");
        }
        let deep = format!("{}a = 1{}", "(".repeat(500), ")".repeat(500));
        assert!(to_json(&deep).unwrap_err().contains("nested deeper"));
        let nots = format!("{}a = 1", "NOT ".repeat(500));
        assert!(to_json(&nots).unwrap_err().contains("nested deeper"));
    }
}
