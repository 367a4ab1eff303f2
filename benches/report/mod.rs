//! Reads criterion's estimates back after a run and prints ratio tables. Shared by
//! `benches/protocol.rs` and `benches/peers/benches/peers.rs` (through `#[path]`).
//!
//! Criterion writes `<dir>/<group>/<id>/new/estimates.json`, where `<dir>` is
//! `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else `target/criterion` under the
//! package (the same order criterion itself uses, short of calling `cargo metadata`).
//! Only estimates written during this run are used, so a filtered run prints `-` rather
//! than a stale figure. The figure used is the median of the per-iteration times.

use std::path::PathBuf;
use std::time::SystemTime;

/// One row: the sum of some benchmarks against the sum of others, each as `(group, id)`.
pub(crate) struct Row {
    label: String,
    subject: Vec<(String, String)>,
    baseline: Vec<(String, String)>,
}

impl Row {
    /// `subject` (summed) against `baseline` (summed).
    pub(crate) fn new(label: &str, subject: &[(&str, &str)], baseline: &[(&str, &str)]) -> Self {
        let own = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(g, id)| (g.to_string(), id.to_string()))
                .collect()
        };
        Self {
            label: label.to_string(),
            subject: own(subject),
            baseline: own(baseline),
        }
    }

    /// One benchmark against another in the same group.
    pub(crate) fn pair(label: &str, group: &str, subject: &str, baseline: &str) -> Self {
        Self::new(label, &[(group, subject)], &[(group, baseline)])
    }
}

/// The sum of the medians of `ids`, if every one was measured in this run.
fn sum_ns(ids: &[(String, String)], since: SystemTime) -> Option<f64> {
    ids.iter()
        .map(|(g, id)| median_ns(g, id, since))
        .sum::<Option<f64>>()
}

fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    PathBuf::from("target").join("criterion")
}

/// The median time in nanoseconds of `group/id`, if criterion measured it since `since`.
pub(crate) fn median_ns(group: &str, id: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("median")?.get("point_estimate")?.as_f64()
}

/// A duration in the unit that suits it.
pub(crate) fn human(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// Prints `label | subject | baseline | subject / baseline` for every row.
pub(crate) fn print_table(title: &str, columns: (&str, &str), rows: &[Row], since: SystemTime) {
    println!();
    println!("{title}");
    println!(
        "| {:<48} | {:>12} | {:>12} | {:>7} |",
        "workload", columns.0, columns.1, "ratio"
    );
    println!("| {:-<48} | {:->12} | {:->12} | {:->7} |", "", "", "", "");
    for row in rows {
        let subject = sum_ns(&row.subject, since);
        let baseline = sum_ns(&row.baseline, since);
        let show = |v: Option<f64>| v.map_or_else(|| "-".to_string(), human);
        let ratio = match (subject, baseline) {
            (Some(s), Some(b)) if b > 0.0 => format!("{:.2}x", s / b),
            _ => "-".to_string(),
        };
        println!(
            "| {:<48} | {:>12} | {:>12} | {:>7} |",
            row.label,
            show(subject),
            show(baseline),
            ratio
        );
    }
}
