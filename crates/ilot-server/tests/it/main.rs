//! Integration tests of the server: storage conformance and the HTTP API on a real TCP port.

mod conformance;
mod conformance_security;
mod http;
mod login;
mod scoping;
mod support;
