//! Integration tests of the server: storage conformance (SQLite and PostgreSQL), the HTTP API on
//! a real TCP port, and two API nodes sharing one PostgreSQL database.

mod audit_headers;
mod at_rest;
mod conformance;
mod conformance_limits;
mod conformance_revocation;
mod conformance_security;
mod http;
mod limits;
mod login;
mod login_limits;
mod multinode;
mod prescription_rules;
mod pg_tls;
mod scoping;
mod sessions;
mod support;
