#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

//! HTTP-level tests: the real application on a random port, a database of its own per test,
//! a Redis namespace per test.

mod accounts;
mod admin;
mod admin_browser;
mod animals;
mod auth_cache;
mod conformance;
mod demo;
mod dex;
mod docs;
mod foundation;
mod graph;
mod hardening;
mod hardening_jobs;
mod helpers;
mod import_django;
mod migrations;
mod replicas;
mod request_docs;
mod social;
mod storage;
mod taxonomy;
mod throttling;
mod vision;
