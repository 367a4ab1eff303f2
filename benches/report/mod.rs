//! Pairs of benchmarks (an operation and its floor, or Bluetick and a peer) run under
//! criterion, then again interleaved, and a ratio table. Shared by `benches/protocol.rs`
//! and `benches/peers/benches/peers.rs` (through `#[path]`).
//!
//! Why both: this machine has two cores shared with builds, so the load drifts during a
//! run and two criterion benchmarks measured a minute apart can differ by 10% for no
//! reason of their own. After criterion, each pair is timed again in alternating batches
//! (subject, baseline, baseline, subject, ...; each batch about 2 ms) and the median of the
//! per-round ratios is reported beside criterion's; it is what the verdicts use.
//!
//! Criterion's figures are read back from `<dir>/<group>/<id>/new/estimates.json`, `<dir>`
//! being `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else `target/criterion`
//! (criterion's own order, short of asking `cargo metadata`). Only files written during
//! this run count, so in `--test` mode or under a filter the other rows print `-` and the
//! interleaved timing is skipped for them.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, Throughput};

/// Runs `routine` `n` times, returning the time taken.
pub(crate) fn time_iter<O>(n: u64, mut routine: impl FnMut() -> O) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        black_box(routine());
    }
    start.elapsed()
}

/// Runs `routine` `n` times, each on a fresh input from `setup`; only `routine` is timed
/// (inputs are made, and inputs and outputs dropped, outside the clock, 32 at a time).
pub(crate) fn time_batched<I, O>(
    n: u64,
    mut setup: impl FnMut() -> I,
    mut routine: impl FnMut(&mut I) -> O,
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = n;
    while left > 0 {
        let chunk = left.min(32);
        left -= chunk;
        let mut inputs: Vec<I> = (0..chunk).map(|_| setup()).collect();
        let mut outputs = Vec::with_capacity(inputs.len());
        let start = Instant::now();
        for input in &mut inputs {
            outputs.push(black_box(routine(input)));
        }
        total += start.elapsed();
        drop(outputs);
        drop(inputs);
    }
    total
}

/// A routine that runs `n` iterations and says how long they took.
pub(crate) type Timed<'a> = Box<dyn FnMut(u64) -> Duration + 'a>;

/// One subject benchmark and the baseline it is divided by, in the same criterion group.
pub(crate) struct Pair<'a> {
    label: String,
    subject_id: String,
    baseline_id: String,
    throughput: Option<u64>,
    subject: Timed<'a>,
    baseline: Timed<'a>,
}

impl<'a> Pair<'a> {
    pub(crate) fn new(
        label: &str,
        (subject_id, subject): (&str, Timed<'a>),
        (baseline_id, baseline): (&str, Timed<'a>),
    ) -> Self {
        Self {
            label: label.to_string(),
            subject_id: subject_id.to_string(),
            baseline_id: baseline_id.to_string(),
            throughput: None,
            subject,
            baseline,
        }
    }

    /// Reports bytes per second too.
    pub(crate) fn bytes(mut self, n: u64) -> Self {
        self.throughput = Some(n);
        self
    }
}

/// A pair's figures: criterion's medians and the interleaved ones, in nanoseconds.
#[derive(Clone, Debug)]
pub(crate) struct Outcome {
    pub(crate) label: String,
    pub(crate) criterion: Option<(f64, f64)>,
    /// Subject and baseline per iteration (medians over rounds), and the median ratio.
    pub(crate) interleaved: Option<(f64, f64, f64)>,
}

/// The batch size that makes `f` take about `target`.
fn calibrate(f: &mut Timed<'_>, target: Duration) -> u64 {
    let mut n = 1u64;
    loop {
        let t = f(n);
        if t >= target || n >= 1 << 24 {
            let per = t.as_secs_f64() / n as f64;
            return ((target.as_secs_f64() / per.max(1e-9)) as u64).max(1);
        }
        n *= 4;
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Alternates subject and baseline batches for `rounds` rounds.
fn interleave(pair: &mut Pair<'_>, rounds: usize) -> (f64, f64, f64) {
    let target = Duration::from_millis(2);
    let n = calibrate(&mut pair.subject, target).min(calibrate(&mut pair.baseline, target));
    let (mut s, mut b, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (ts, tb) = if round % 2 == 0 {
            let ts = (pair.subject)(n);
            (ts, (pair.baseline)(n))
        } else {
            let tb = (pair.baseline)(n);
            ((pair.subject)(n), tb)
        };
        let per_s = ts.as_secs_f64() * 1e9 / n as f64;
        let per_b = tb.as_secs_f64() * 1e9 / n as f64;
        s.push(per_s);
        b.push(per_b);
        r.push(per_s / per_b);
    }
    (median(&mut s), median(&mut b), median(&mut r))
}

/// Runs every pair under criterion in group `group`, then interleaved (those criterion
/// measured), appending the outcomes to `out`.
pub(crate) fn run_group(
    c: &mut Criterion,
    group: &str,
    mut pairs: Vec<Pair<'_>>,
    since: SystemTime,
    out: &mut Vec<Outcome>,
) {
    let mut g = c.benchmark_group(group);
    for pair in &mut pairs {
        if let Some(bytes) = pair.throughput {
            g.throughput(Throughput::Bytes(bytes));
        }
        let subject = &mut pair.subject;
        g.bench_function(pair.subject_id.as_str(), |b| b.iter_custom(&mut *subject));
        let baseline = &mut pair.baseline;
        g.bench_function(pair.baseline_id.as_str(), |b| b.iter_custom(&mut *baseline));
    }
    g.finish();
    for mut pair in pairs {
        let s = median_ns(group, &pair.subject_id, since);
        let b = median_ns(group, &pair.baseline_id, since);
        let criterion = s.zip(b);
        let interleaved = criterion.map(|_| interleave(&mut pair, 31));
        out.push(Outcome {
            label: pair.label,
            criterion,
            interleaved,
        });
    }
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

/// A combined row: the sums of some outcomes' figures.
pub(crate) fn sum(label: &str, parts: &[&Outcome]) -> Outcome {
    let add = |f: &dyn Fn(&Outcome) -> Option<(f64, f64)>| {
        parts
            .iter()
            .map(|o| f(o))
            .try_fold((0.0, 0.0), |(a, b), x| x.map(|(s, t)| (a + s, b + t)))
    };
    Outcome {
        label: label.to_string(),
        criterion: add(&|o| o.criterion),
        interleaved: add(&|o| o.interleaved.map(|(s, b, _)| (s, b))).map(|(s, b)| (s, b, s / b)),
    }
}

/// Prints one line per outcome: criterion's two medians and ratio, and the interleaved ratio.
pub(crate) fn print_table(title: &str, columns: (&str, &str), outcomes: &[Outcome]) {
    println!();
    println!("{title}");
    println!(
        "| {:<48} | {:>11} | {:>11} | {:>7} | {:>11} |",
        "workload", columns.0, columns.1, "ratio", "interleaved"
    );
    println!(
        "| {:-<48} | {:->11} | {:->11} | {:->7} | {:->11} |",
        "", "", "", "", ""
    );
    for o in outcomes {
        let (s, b, ratio) = match o.criterion {
            Some((s, b)) => (human(s), human(b), format!("{:.2}x", s / b)),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let inter = o
            .interleaved
            .map_or_else(|| "-".to_string(), |(_, _, r)| format!("{r:.2}x"));
        println!(
            "| {:<48} | {s:>11} | {b:>11} | {ratio:>7} | {inter:>11} |",
            o.label
        );
    }
}
