//! The shape bounds of a statement, measured one lexical event at a time without
//! allocating: parenthesis nesting and expression depth.
//!
//! `sqlparser` builds an operator chain (`1+1+…`, `a AND b AND …`, `x COLLATE a COLLATE b
//! …`) in a loop, so the parser's recursion limit does not stop it, but the tree it builds
//! is as deep as the chain is long, and dropping or printing that tree recurses. The meter
//! estimates the depth of that tree from above: within one list item, the number of
//! operators plus the depth of the deepest parenthesised group, where a group is one
//! deeper than the deepest item inside it.

use super::Rejection;
use super::policy::{AllowlistPolicy, NESTING_CEILING};

/// What the meter needs to know about one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Event {
    /// `(`.
    Open,
    /// `)`.
    Close,
    /// `,` or `;`: the end of one list item (or statement).
    Separator,
    /// An infix or postfix operator, or an operator keyword (`AND`, `IS`, `COLLATE`, ...).
    Operator,
    /// `GLOB`, `MATCH` or `REGEXP`: `sqlparser` deep-copies the expression on their left,
    /// recursively, so each weighs [`COPYING_OPERATOR_WEIGHT`] operators.
    CopyingOperator,
}

/// How many operators a `GLOB`, `MATCH` or `REGEXP` counts as. Measured: a chain of 500
/// `GLOB`s overflows a 2 MiB stack in a debug build, 1,000 `+` do not come close.
pub(super) const COPYING_OPERATOR_WEIGHT: usize = 4;

/// The expression being measured at one nesting level.
#[derive(Debug, Clone, Copy, Default)]
struct Level {
    /// Operators in the current list item.
    operators: usize,
    /// The depth of the deepest group closed in the current list item.
    deepest_group: usize,
    /// The depth of the deepest finished list item at this level.
    deepest_item: usize,
}

impl Level {
    /// The depth of the current list item so far.
    fn item_depth(&self) -> usize {
        self.operators + self.deepest_group
    }
}

/// Measures nesting and expression depth against a policy's limits.
pub(super) struct Meter {
    /// One record per open parenthesis, plus the statement's own level at index 0.
    levels: [Level; NESTING_CEILING + 1],
    /// How many parentheses are open.
    depth: usize,
    /// [`AllowlistPolicy::nesting_limit`], at most [`NESTING_CEILING`].
    max_nesting: usize,
    /// [`AllowlistPolicy::expr_depth_limit`].
    max_expr_depth: usize,
}

impl Meter {
    /// A meter for a statement checked under `policy`.
    pub(super) fn new(policy: &AllowlistPolicy) -> Self {
        Self {
            levels: [Level::default(); NESTING_CEILING + 1],
            depth: 0,
            max_nesting: policy.nesting_limit().min(NESTING_CEILING),
            max_expr_depth: policy.expr_depth_limit(),
        }
    }

    /// Takes one event into account, refusing as soon as a bound is passed.
    pub(super) fn note(&mut self, event: Event) -> Result<(), Rejection> {
        match event {
            Event::Open => {
                if self.depth >= self.max_nesting {
                    return Err(Rejection::TooDeep {
                        limit: self.max_nesting,
                    });
                }
                self.depth += 1;
                self.levels[self.depth] = Level::default();
                Ok(())
            }
            Event::Close => {
                // An unmatched `)` is the parser's to refuse.
                if self.depth == 0 {
                    return Ok(());
                }
                let inner = self.levels[self.depth];
                let group = inner.deepest_item.max(inner.item_depth()) + 1;
                self.depth -= 1;
                let outer = &mut self.levels[self.depth];
                outer.deepest_group = outer.deepest_group.max(group);
                self.check()
            }
            Event::Separator => {
                let level = &mut self.levels[self.depth];
                level.deepest_item = level.deepest_item.max(level.item_depth());
                level.operators = 0;
                level.deepest_group = 0;
                Ok(())
            }
            Event::Operator => {
                self.levels[self.depth].operators += 1;
                self.check()
            }
            Event::CopyingOperator => {
                self.levels[self.depth].operators += COPYING_OPERATOR_WEIGHT;
                self.check()
            }
        }
    }

    /// Refuses when the current list item is deeper than the limit.
    fn check(&self) -> Result<(), Rejection> {
        if self.levels[self.depth].item_depth() > self.max_expr_depth {
            return Err(Rejection::TooComplex {
                limit: self.max_expr_depth,
            });
        }
        Ok(())
    }
}
