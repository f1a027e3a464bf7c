//! `/v1/users`: the portal users of the caller's tenant.

mod bodies;
mod handlers;
mod import;
mod parse;

pub use bodies::*;
pub use handlers::*;
pub use import::*;
