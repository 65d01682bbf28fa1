//! Engine, world, scenarios and reports.
