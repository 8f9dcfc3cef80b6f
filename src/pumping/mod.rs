//! The SMS pumping defence: what is checked before a send may cost money.

pub(crate) mod lookup;
