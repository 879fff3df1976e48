//! A process's resident memory over time: `VmRSS` from `/proc/<pid>/status`, sampled by
//! whoever drives a workload, and a summary of the curve.

use std::time::Duration;

/// `VmRSS` of this process in KiB, or `None` where `/proc` is not there.
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// One sample of the curve.
#[derive(Debug, Clone, Copy)]
pub struct RssSample {
    /// Since the workload started.
    pub at: Duration,
    /// Resident memory, KiB.
    pub kib: u64,
    /// Work done so far (writes, requests).
    pub done: u64,
}

/// The samples of one run, in time order.
#[derive(Debug, Default, Clone)]
pub struct RssCurve {
    /// The samples.
    pub samples: Vec<RssSample>,
}

impl RssCurve {
    /// The highest RSS among samples taken in `[from, to)` of the run, KiB.
    pub fn max_between(&self, from: Duration, to: Duration) -> Option<u64> {
        self.samples
            .iter()
            .filter(|s| s.at >= from && s.at < to)
            .map(|s| s.kib)
            .max()
    }

    /// The last sample.
    pub fn last(&self) -> Option<RssSample> {
        self.samples.last().copied()
    }

    /// RSS growth per unit of work between the first sample at or after `from` and the
    /// last one, in bytes (negative when it shrank).
    pub fn bytes_per_unit_since(&self, from: Duration) -> Option<f64> {
        let first = self.samples.iter().find(|s| s.at >= from)?;
        let last = self.last()?;
        let work = last.done.checked_sub(first.done).filter(|&w| w > 0)?;
        Some((last.kib as f64 - first.kib as f64) * 1024.0 / work as f64)
    }

    /// Lines `t, RSS, work` for a report.
    pub fn table(&self) -> String {
        let mut out = String::from("| t (s) | RSS (MiB) | writes |\n| --- | --- | --- |\n");
        for s in &self.samples {
            out.push_str(&format!(
                "| {:.0} | {:.1} | {} |\n",
                s.at.as_secs_f64(),
                s.kib as f64 / 1024.0,
                s.done
            ));
        }
        out
    }
}
