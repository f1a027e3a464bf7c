//! Emails: the outbox they wait in and what they say.

mod outbox;
mod templates;

pub use outbox::*;
pub use templates::*;
