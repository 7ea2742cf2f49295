//! Integration tests of the server: storage conformance (SQLite and PostgreSQL), the HTTP API on
//! a real TCP port, and two API nodes sharing one PostgreSQL database.

mod at_rest;
mod conformance;
mod conformance_security;
mod http;
mod login;
mod multinode;
mod pg_tls;
mod scoping;
mod support;
