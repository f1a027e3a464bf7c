//! `/v1/users`: the portal users of the caller's tenant.

mod bodies;
mod handlers;
mod parse;

pub use bodies::*;
pub use handlers::*;
