//! `sortby`: keys read from items and their order, as pgstac 0.10 orders
//! them: `collection` and `id` are appended (in the first key's direction)
//! when the sort does not name them, so the order is total; nulls come last ascending and first
//! descending (PostgreSQL's default); values compare by type (numbers as
//! numbers, date-times as instants, text byte-wise).

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;
use stac_meta::search::{Direction, SortBy};

use super::eval::{JsonRow, Row, Val, compare, value};
use super::expr::{Operand, Prop};

/// The sort keys (fields parsed, `id` appended).
#[derive(Debug, Clone)]
pub(crate) struct Order {
    keys: Vec<(Operand, Direction)>,
}

impl Order {
    /// The order of `sortby`, with pgstac's `collection`, `id` tie-breakers.
    pub(super) fn new(sortby: &[SortBy]) -> Self {
        let mut keys: Vec<(Operand, Direction)> = sortby
            .iter()
            .map(|s| (Operand::Prop(Prop::parse(&s.field)), s.direction))
            .collect();
        let dir = keys.first().map_or(Direction::Desc, |(_, d)| *d);
        for tie in [Prop::Collection, Prop::Id] {
            if !keys.iter().any(|(o, _)| *o == Operand::Prop(tie.clone())) {
                keys.push((Operand::Prop(tie), dir));
            }
        }
        Self { keys }
    }

    /// The fields the keys read.
    pub(super) fn props(&self) -> Vec<&Prop> {
        let mut out = Vec::new();
        for (o, _) in &self.keys {
            o.props(&mut out);
        }
        out
    }

    /// The key values of an item.
    pub(super) fn key(&self, item: &Value) -> Result<Vec<Val<'static>>, String> {
        let row = JsonRow(item);
        self.keys
            .iter()
            .map(|(o, _)| value(o, &row as &dyn Row).map(owned))
            .collect()
    }

    /// Compare two keys.
    pub(super) fn cmp(&self, a: &[Val], b: &[Val]) -> Ordering {
        for ((x, y), (_, dir)) in a.iter().zip(b).zip(&self.keys) {
            let o = match (x, y) {
                (Val::Null, Val::Null) => Ordering::Equal,
                // Nulls sort as the largest value: last ascending, first descending.
                (Val::Null, _) => Ordering::Greater,
                (_, Val::Null) => Ordering::Less,
                _ => compare(x, y).unwrap_or_else(|| text(x).cmp(&text(y))),
            };
            let o = match dir {
                Direction::Asc => o,
                Direction::Desc => o.reverse(),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

fn text(v: &Val) -> String {
    match v {
        Val::Str(s) => s.to_string(),
        Val::Num(n) => n.to_string(),
        Val::Time(t) => t.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Json(j) => j.to_string(),
        Val::List(_) | Val::Null => String::new(),
    }
}

fn owned(v: Val<'_>) -> Val<'static> {
    match v {
        Val::Null => Val::Null,
        Val::Bool(b) => Val::Bool(b),
        Val::Num(n) => Val::Num(n),
        Val::Time(t) => Val::Time(t),
        Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
        Val::Json(j) => Val::Json(Cow::Owned(j.into_owned())),
        Val::List(l) => Val::List(l.into_iter().map(owned).collect()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sorts_like_pgstac() {
        let items = [
            json!({"id": "a", "properties": {"datetime": "2023-01-02T00:00:00Z", "cc": 10}}),
            json!({"id": "b", "properties": {"datetime": "2023-01-01T00:00:00Z", "cc": 9}}),
            json!({"id": "c", "properties": {"datetime": "2023-01-02T00:00:00Z"}}),
        ];
        let order = |sortby: &[&str]| -> Vec<String> {
            let o = Order::new(&sortby.iter().map(|s| SortBy::parse(s)).collect::<Vec<_>>());
            let mut keyed: Vec<(Vec<Val>, &Value)> =
                items.iter().map(|i| (o.key(i).unwrap(), i)).collect();
            keyed.sort_by(|a, b| o.cmp(&a.0, &b.0));
            keyed
                .iter()
                .map(|(_, i)| i["id"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            order(&["datetime"]),
            ["b", "a", "c"],
            "ties broken by id, ascending too"
        );
        assert_eq!(order(&["-datetime"]), ["c", "a", "b"]);
        assert_eq!(order(&["cc"]), ["b", "a", "c"], "numbers, nulls last");
        assert_eq!(order(&["-cc"]), ["c", "a", "b"], "nulls first descending");
        assert_eq!(order(&["+id"]), ["a", "b", "c"]);
    }
}
