//! Integration tests of the server: storage conformance (SQLite and PostgreSQL), the HTTP API on
//! a real TCP port, and two API nodes sharing one PostgreSQL database.

mod conformance;
mod conformance_security;
mod console;
mod http;
mod login;
mod multinode;
mod scoping;
mod support;
