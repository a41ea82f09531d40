//! The filter every search parameter compiles to: a boolean [`Expr`] over
//! [`Operand`]s (item fields and literals).
//!
//! Field names follow pgstac 0.10's queryables (the reference for search
//! results): leading `properties.` prefixes are dropped; `id`, `collection`
//! and `geometry` are the item's own; `datetime` (and `start_datetime`) is
//! the *start* of the item's temporal range and `end_datetime` its end,
//! where the range is `start_datetime`..`end_datetime` when both are set
//! and `datetime`..`datetime` otherwise; names starting with `assets`,
//! `links`, `bbox`, `stac_version` or `stac_extensions` are top-level
//! paths; every other name is a (dotted) path into `properties`.

use super::spatial::Geometry;

/// An item field a filter refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Prop {
    /// `id`.
    Id,
    /// `collection`.
    Collection,
    /// The start of the item's temporal range (`datetime`, `start_datetime`).
    Start,
    /// The end of the item's temporal range (`end_datetime`).
    End,
    /// `geometry`.
    Geometry,
    /// A path into `properties` (first segment: the property name).
    Property(Vec<String>),
    /// A path from the item's top level (`assets.B04.href`, `stac_version`).
    Root(Vec<String>),
}

impl Prop {
    /// The field a queryable name refers to (pgstac's `queryable()` rules).
    pub(super) fn parse(name: &str) -> Self {
        let mut name = name;
        while let Some(rest) = name.strip_prefix("properties.") {
            name = rest;
        }
        match name {
            "id" => return Self::Id,
            "collection" => return Self::Collection,
            "datetime" | "start_datetime" => return Self::Start,
            "end_datetime" => return Self::End,
            "geometry" => return Self::Geometry,
            _ => {}
        }
        let path: Vec<String> = name.split('.').map(str::to_owned).collect();
        if matches!(
            path[0].as_str(),
            "links" | "assets" | "bbox" | "stac_version" | "stac_extensions"
        ) {
            Self::Root(path)
        } else {
            Self::Property(path)
        }
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// The operator with its operands swapped (`a < b` ⇔ `b > a`).
    pub(super) fn flip(self) -> Self {
        match self {
            Self::Lt => Self::Gt,
            Self::Le => Self::Ge,
            Self::Gt => Self::Lt,
            Self::Ge => Self::Le,
            other => other,
        }
    }

    /// Whether `ordering` (of left vs right) satisfies the operator.
    pub(super) fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Self::Eq => ordering == Equal,
            Self::Ne => ordering != Equal,
            Self::Lt => ordering == Less,
            Self::Le => ordering != Greater,
            Self::Gt => ordering == Greater,
            Self::Ge => ordering != Less,
        }
    }
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// Text functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextFn {
    /// `casei` / `upper`: upper case.
    Upper,
    /// `lower`.
    Lower,
    /// `accenti`: accents removed.
    Accenti,
}

/// Spatial predicates that are evaluated exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpatialOp {
    Intersects,
    Disjoint,
}

/// Temporal predicates (CQL2 `t_*`), on closed ranges `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TemporalOp {
    Before,
    After,
    Meets,
    MetBy,
    Overlaps,
    OverlappedBy,
    Starts,
    StartedBy,
    During,
    Contains,
    Finishes,
    FinishedBy,
    Equals,
    Disjoint,
    Intersects,
}

impl TemporalOp {
    /// From a CQL2 operator name (`t_intersects`; `anyinteracts`).
    pub(super) fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "t_before" => Self::Before,
            "t_after" => Self::After,
            "t_meets" => Self::Meets,
            "t_metby" => Self::MetBy,
            "t_overlaps" => Self::Overlaps,
            "t_overlappedby" => Self::OverlappedBy,
            "t_starts" => Self::Starts,
            "t_startedby" => Self::StartedBy,
            "t_during" => Self::During,
            "t_contains" => Self::Contains,
            "t_finishes" => Self::Finishes,
            "t_finishedby" => Self::FinishedBy,
            "t_equals" => Self::Equals,
            "t_disjoint" => Self::Disjoint,
            "t_intersects" | "anyinteracts" => Self::Intersects,
            _ => return None,
        })
    }

    /// Whether `[ll, lh]` and `[rl, rh]` are in this relation (pgstac's
    /// table, open ends as ±∞).
    pub(super) fn holds(self, ll: i64, lh: i64, rl: i64, rh: i64) -> bool {
        match self {
            Self::Before => lh < rl,
            Self::After => ll > rh,
            Self::Meets => lh == rl,
            Self::MetBy => ll == rh,
            Self::Overlaps => ll < rl && rl < lh && lh < rh,
            Self::OverlappedBy => rl < ll && ll < rh && lh > rh,
            Self::Starts => ll == rl && lh < rh,
            Self::StartedBy => ll == rl && lh > rh,
            Self::During => ll > rl && lh < rh,
            Self::Contains => ll < rl && lh > rh,
            Self::Finishes => ll > rl && lh == rh,
            Self::FinishedBy => ll < rl && lh == rh,
            Self::Equals => ll == rl && lh == rh,
            Self::Disjoint => !(ll <= rh && lh >= rl),
            Self::Intersects => ll <= rh && lh >= rl,
        }
    }
}

/// Array predicates (CQL2 `a_*`), on the arrays' elements as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArrayOp {
    Equals,
    Contains,
    ContainedBy,
    Overlaps,
}

/// A value-producing operand.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Prop(Prop),
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// An instant, µs since the epoch (UTC).
    Time(i64),
    /// A date (its midnight, µs since the epoch): an instant in
    /// comparisons, the whole day in temporal operators.
    Date(i64),
    /// A closed interval of instants; `None` is an open end.
    Interval(Option<i64>, Option<i64>),
    Geom(Box<Geometry>),
    List(Vec<Operand>),
    Text(TextFn, Box<Operand>),
    Arith(ArithOp, Box<Operand>, Box<Operand>),
}

impl Operand {
    /// Every field this operand reads.
    pub(super) fn props<'a>(&'a self, out: &mut Vec<&'a Prop>) {
        match self {
            Self::Prop(p) => out.push(p),
            Self::List(v) => v.iter().for_each(|o| o.props(out)),
            Self::Text(_, o) => o.props(out),
            Self::Arith(_, a, b) => {
                a.props(out);
                b.props(out);
            }
            _ => {}
        }
    }
}

/// A boolean filter. Evaluation follows SQL's three-valued logic: a
/// comparison with a missing or null field is *unknown*, `not unknown` is
/// unknown, and an item matches only when the whole filter is true.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Const(bool),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp(CmpOp, Operand, Operand),
    /// SQL `LIKE`: `%` any run, `_` one character, `\` escapes.
    Like(Operand, Operand),
    /// Inclusive on both ends.
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    IsNull(Operand),
    Spatial(SpatialOp, Operand, Operand),
    Temporal(TemporalOp, Operand, Operand),
    Array(ArrayOp, Operand, Operand),
}

impl Expr {
    /// `a AND b`, flattening nested conjunctions and dropping `true`.
    pub(super) fn and(parts: Vec<Expr>) -> Expr {
        let mut out = Vec::new();
        for p in parts {
            match p {
                Expr::And(inner) => out.extend(inner),
                Expr::Const(true) => {}
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Expr::Const(true),
            1 => out.pop().expect("one part"),
            _ => Expr::And(out),
        }
    }

    /// The top-level conjuncts (`a AND b AND c` → `[a, b, c]`).
    pub(super) fn conjuncts(self) -> Vec<Expr> {
        match self {
            Expr::And(parts) => parts,
            Expr::Const(true) => Vec::new(),
            other => vec![other],
        }
    }

    /// Every field this filter reads.
    pub(super) fn props<'a>(&'a self, out: &mut Vec<&'a Prop>) {
        match self {
            Expr::Const(_) => {}
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.props(out)),
            Expr::Not(e) => e.props(out),
            Expr::Cmp(_, a, b)
            | Expr::Like(a, b)
            | Expr::Spatial(_, a, b)
            | Expr::Temporal(_, a, b)
            | Expr::Array(_, a, b) => {
                a.props(out);
                b.props(out);
            }
            Expr::Between(a, b, c) => {
                a.props(out);
                b.props(out);
                c.props(out);
            }
            Expr::In(a, list) => {
                a.props(out);
                list.iter().for_each(|o| o.props(out));
            }
            Expr::IsNull(a) => a.props(out),
        }
    }

    /// Whether evaluating this reads an item geometry (costly: WKB is decoded).
    pub(super) fn reads_geometry(&self) -> bool {
        let mut props = Vec::new();
        self.props(&mut props);
        props.iter().any(|p| matches!(p, Prop::Geometry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_pgstac_queryables() {
        assert_eq!(Prop::parse("properties.datetime"), Prop::Start);
        assert_eq!(Prop::parse("start_datetime"), Prop::Start);
        assert_eq!(Prop::parse("end_datetime"), Prop::End);
        assert_eq!(Prop::parse("id"), Prop::Id);
        assert_eq!(
            Prop::parse("eo:cloud_cover"),
            Prop::Property(vec!["eo:cloud_cover".into()])
        );
        assert_eq!(
            Prop::parse("assets.B04.href"),
            Prop::Root(vec!["assets".into(), "B04".into(), "href".into()])
        );
    }

    #[test]
    fn temporal_table() {
        // [10, 20] vs [20, 30]
        assert!(TemporalOp::Meets.holds(10, 20, 20, 30));
        assert!(TemporalOp::Intersects.holds(10, 20, 20, 30));
        assert!(!TemporalOp::Before.holds(10, 20, 20, 30));
        assert!(TemporalOp::During.holds(12, 18, 10, 20));
        assert!(TemporalOp::Disjoint.holds(0, 5, 10, 20));
    }
}
