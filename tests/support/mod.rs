//! Helpers shared by the integration tests.

pub mod chat_server;
