//! The time axis: items ordered and grouped into timesteps.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use stac_meta::{GroupBy, GroupKey, item_datetime, item_id};

use crate::error::Result;
use crate::options::TimeOrder;

/// One timestep of a cube.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Timestep {
    /// Its label: the item datetime (RFC 3339) ungrouped, the group key
    /// grouped (`2021-06-01` for solar days), or the item id when the item
    /// has no datetime.
    pub label: String,
    /// The datetime of the first item of the timestep.
    pub datetime: Option<DateTime<Utc>>,
    /// The group key (grouped cubes only).
    #[serde(skip)]
    pub key: Option<GroupKey>,
    /// Ids of the items fused into this timestep, in priority order.
    pub items: Vec<String>,
    /// The properties of the first item (the group's representative).
    pub properties: Map<String, Value>,
    /// Indices of the items (into the filtered input), in priority order.
    #[serde(skip)]
    pub(crate) members: Vec<usize>,
}

fn label_of(dt: Option<DateTime<Utc>>, id: &str) -> String {
    match dt {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        None => id.to_owned(),
    }
}

/// Order items and group them into timesteps.
pub(crate) fn build_timeline(
    items: &[&Value],
    groupby: &GroupBy,
    order: TimeOrder,
) -> Result<Vec<Timestep>> {
    let mut entries: Vec<(usize, Option<DateTime<Utc>>, &str)> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        entries.push((i, item_datetime(item)?, item_id(item)));
    }
    if order == TimeOrder::Sorted {
        // Items without datetime last; ties by id, then input order (stable).
        entries.sort_by(|a, b| match (a.1, b.1) {
            (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.2.cmp(b.2)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.2.cmp(b.2),
        });
    }
    let props = |i: usize| {
        items[i]
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    if matches!(groupby, GroupBy::None) {
        return Ok(entries
            .into_iter()
            .map(|(i, dt, id)| Timestep {
                label: label_of(dt, id),
                datetime: dt,
                key: None,
                items: vec![id.to_owned()],
                properties: props(i),
                members: vec![i],
            })
            .collect());
    }
    // Keys order naturally (GroupKey: Ord); members keep the item order.
    let mut groups: std::collections::BTreeMap<GroupKey, Vec<usize>> = Default::default();
    for (i, _, _) in &entries {
        let key = groupby
            .key(items[*i])?
            .unwrap_or(GroupKey::Text(String::new()));
        groups.entry(key).or_default().push(*i);
    }
    let when: std::collections::HashMap<usize, Option<DateTime<Utc>>> =
        entries.iter().map(|e| (e.0, e.1)).collect();
    Ok(groups
        .into_iter()
        .map(|(key, members)| {
            let first = members[0];
            let dt = when.get(&first).copied().flatten();
            Timestep {
                label: key.to_string(),
                datetime: dt,
                items: members
                    .iter()
                    .map(|&i| item_id(items[i]).to_owned())
                    .collect(),
                properties: props(first),
                key: Some(key),
                members,
            }
        })
        .collect())
}
