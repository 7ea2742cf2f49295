//! Integration tests of the server: storage conformance (SQLite and PostgreSQL), the HTTP API on
//! a real TCP port, and two API nodes sharing one PostgreSQL database.

mod access_lists;
mod at_rest;
mod audit_headers;
mod billing;
mod conformance;
mod conformance_limits;
mod conformance_reenrol;
mod conformance_revocation;
mod conformance_security;
mod consent;
mod console;
mod entries_pages;
mod http;
mod identity;
mod limits;
mod login;
mod login_limits;
mod multinode;
mod patient_page;
mod patient_rights;
mod pg_tls;
mod prescription_rules;
mod psc;
mod record;
mod reopen;
mod report;
mod restriction;
mod retention;
mod route_walk;
mod scoping;
mod sessions;
mod support;
mod triage_reviews;
mod triage_summaries;
