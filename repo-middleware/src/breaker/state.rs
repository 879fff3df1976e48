//! The breaker's state machine: pure, clock passed in, no I/O.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::config::BreakerConfig;

/// The three states of a circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls pass; failures are counted.
    Closed,
    /// Calls are refused until the open period ends.
    Open,
    /// A limited number of probe calls pass to test the dependency.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half_open`.
    pub fn label(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    /// The value of the `repo_circuit_state` gauge: 0 closed, 1 half-open, 2 open.
    pub fn gauge(self) -> f64 {
        match self {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        }
    }
}

/// Whether a call may go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// It may; `probe` when the breaker is half-open.
    Admitted {
        /// The call is a half-open probe.
        probe: bool,
    },
    /// It may not; the breaker stays open for `retry_in` more.
    Refused {
        /// Time until probes are allowed.
        retry_in: Duration,
    },
}

#[derive(Debug)]
enum Phase {
    Closed {
        consecutive: u32,
        window: VecDeque<bool>,
    },
    Open {
        until: Instant,
    },
    HalfOpen {
        in_flight: u32,
        successes: u32,
    },
}

/// The state machine of one breaker.
#[derive(Debug)]
pub struct Machine {
    config: BreakerConfig,
    phase: Phase,
}

impl Machine {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            phase: Phase::Closed {
                consecutive: 0,
                window: VecDeque::new(),
            },
        }
    }

    /// The state at `now` (an open breaker whose period ended reads as half-open).
    pub fn state(&self, now: Instant) -> BreakerState {
        match &self.phase {
            Phase::Closed { .. } => BreakerState::Closed,
            Phase::Open { until } if now < *until => BreakerState::Open,
            Phase::Open { .. } | Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// The state as last stored: an open breaker stays `Open` here until a call finds its
    /// period over and moves it to half-open (that move is a transition to report).
    pub fn stored_state(&self) -> BreakerState {
        match &self.phase {
            Phase::Closed { .. } => BreakerState::Closed,
            Phase::Open { .. } => BreakerState::Open,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// How long until an open breaker lets probes through.
    pub fn retry_in(&self, now: Instant) -> Duration {
        match &self.phase {
            Phase::Open { until } => until.saturating_duration_since(now),
            _ => Duration::ZERO,
        }
    }

    /// Decides on a new call, and reserves a probe slot when half-open.
    pub fn admit(&mut self, now: Instant) -> Admission {
        if let Phase::Open { until } = self.phase {
            if now < until {
                return Admission::Refused {
                    retry_in: until - now,
                };
            }
            self.phase = Phase::HalfOpen {
                in_flight: 0,
                successes: 0,
            };
        }
        match &mut self.phase {
            Phase::Closed { .. } => Admission::Admitted { probe: false },
            Phase::HalfOpen { in_flight, .. } if *in_flight < self.config.half_open_probes => {
                *in_flight += 1;
                Admission::Admitted { probe: true }
            }
            Phase::HalfOpen { .. } => Admission::Refused {
                retry_in: Duration::ZERO,
            },
            Phase::Open { until } => Admission::Refused {
                retry_in: until.saturating_duration_since(now),
            },
        }
    }

    /// Records how an admitted call ended.
    pub fn record(&mut self, now: Instant, probe: bool, failed: bool) {
        let open = Phase::Open {
            until: now + self.config.open_for,
        };
        match &mut self.phase {
            Phase::Closed {
                consecutive,
                window,
            } => {
                if probe {
                    return; // a probe that finished after the breaker closed again
                }
                *consecutive = if failed { *consecutive + 1 } else { 0 };
                window.push_back(failed);
                while window.len() > self.config.window {
                    window.pop_front();
                }
                let failures = window.iter().filter(|f| **f).count();
                let rate_tripped = window.len() >= self.config.min_calls
                    && failures as f64 >= self.config.failure_rate * window.len() as f64;
                if *consecutive >= self.config.consecutive_failures || (failed && rate_tripped) {
                    self.phase = open;
                }
            }
            Phase::HalfOpen {
                in_flight,
                successes,
            } => {
                if !probe {
                    return; // a call admitted while closed, finishing late
                }
                *in_flight = in_flight.saturating_sub(1);
                if failed {
                    self.phase = open;
                } else {
                    *successes += 1;
                    if *successes >= self.config.half_open_successes {
                        self.phase = Phase::Closed {
                            consecutive: 0,
                            window: VecDeque::new(),
                        };
                    }
                }
            }
            Phase::Open { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> Machine {
        Machine::new(
            BreakerConfig::default()
                .consecutive_failures(3)
                .failure_rate(0.5, 4, 4)
                .open_for(Duration::from_secs(10))
                .half_open(1, 2),
        )
    }

    #[test]
    fn consecutive_failures_open_then_probe_then_close() {
        let mut m = machine();
        let t0 = Instant::now();
        for _ in 0..2 {
            assert_eq!(m.admit(t0), Admission::Admitted { probe: false });
            m.record(t0, false, true);
        }
        assert_eq!(m.state(t0), BreakerState::Closed);
        m.record(t0, false, true);
        assert_eq!(m.state(t0), BreakerState::Open);
        assert_eq!(
            m.admit(t0),
            Admission::Refused {
                retry_in: Duration::from_secs(10)
            }
        );

        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(m.state(t1), BreakerState::HalfOpen);
        assert_eq!(m.admit(t1), Admission::Admitted { probe: true });
        assert_eq!(
            m.admit(t1),
            Admission::Refused {
                retry_in: Duration::ZERO
            },
            "one probe at a time"
        );
        m.record(t1, true, false);
        assert_eq!(m.state(t1), BreakerState::HalfOpen, "two successes needed");
        assert_eq!(m.admit(t1), Admission::Admitted { probe: true });
        m.record(t1, true, false);
        assert_eq!(m.state(t1), BreakerState::Closed);
    }

    #[test]
    fn a_failed_probe_reopens() {
        let mut m = machine();
        let t0 = Instant::now();
        for _ in 0..3 {
            m.record(t0, false, true);
        }
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(m.admit(t1), Admission::Admitted { probe: true });
        m.record(t1, true, true);
        assert_eq!(m.state(t1), BreakerState::Open);
        assert_eq!(m.retry_in(t1), Duration::from_secs(10));
    }

    #[test]
    fn failure_rate_over_the_window_opens() {
        let mut m = machine();
        let t0 = Instant::now();
        for failed in [false, true, false, true] {
            m.record(t0, false, failed);
        }
        assert_eq!(m.state(t0), BreakerState::Open, "2 of the last 4 failed");
    }

    #[test]
    fn successes_reset_the_consecutive_count() {
        let mut m = Machine::new(
            BreakerConfig::default()
                .consecutive_failures(2)
                .failure_rate(2.0, 10, 10),
        );
        let t0 = Instant::now();
        for failed in [true, false, true, false, true] {
            m.record(t0, false, failed);
        }
        assert_eq!(m.state(t0), BreakerState::Closed);
    }
}
