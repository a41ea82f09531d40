//! Hive-style partitioned output: `collection=…/year=…/part-0.parquet`.

/// The folder value of a null (or missing) partition key, as Hive writes it.
pub(crate) const NULL_VALUE: &str = "__HIVE_DEFAULT_PARTITION__";
