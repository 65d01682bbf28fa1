//! A value with where it came from: what the readers of the function's environment return, so a
//! caller reports provenance from the one reading that decided the value.

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The environment variable `name`, set to `raw` and taken as written.
    Env {
        /// The variable.
        name: String,
        /// Its text.
        raw: String,
    },
    /// Nothing set it: the component's own default.
    Default {
        /// The variable is set to empty text, which the component treats as unset.
        empty: bool,
    },
    /// Nothing set it: it defaults to another value, named.
    Derived {
        /// The value it follows (e.g. `write_timeout`).
        from: String,
        /// The variable is set to empty text, which the component treats as unset.
        empty: bool,
    },
    /// The variable `name` is set to `raw`, which the component rejects without an error and
    /// replaces with its default.
    Fallback {
        /// The variable.
        name: String,
        /// Its text.
        raw: String,
        /// What happened, for the user.
        warning: String,
    },
}

/// A value and its [`Source`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value the component uses.
    pub value: T,
    /// Where it came from.
    pub from: Source,
}

impl<T> Sourced<T> {
    /// The warning of a value the component silently replaced.
    pub fn warning(&self) -> Option<&str> {
        match &self.from {
            Source::Fallback { warning, .. } => Some(warning),
            Source::Env { .. } | Source::Default { .. } | Source::Derived { .. } => None,
        }
    }

    /// True when the variable was set and taken as written.
    pub fn is_set(&self) -> bool {
        matches!(self.from, Source::Env { .. })
    }
}
