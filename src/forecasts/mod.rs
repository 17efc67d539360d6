//! Forecasts: when each open objective is expected to be reached, and whether that is after its
//! deadline (*a rischio*). The method is in `rules::forecast` (pure, over the rules' measures);
//! the snapshot carries each comune's forecasts (`evaluation::Evaluated::forecasts`); here is
//! what reads them: the backtest against what happened and its command.

#[cfg(feature = "ssr")]
pub mod backtest;
#[cfg(feature = "ssr")]
pub mod cli;
