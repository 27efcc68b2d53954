//! The cost the per-address rate limit adds to every public request (sign-in,
//! token, user/connect, key/verify, schema reads): one count under a lock.
//!
//! `cargo bench -p basic-admin-server --bench limits`

use std::net::IpAddr;

use basic_admin_server::rate_limit::{Group, RateLimits};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn rate_limit(c: &mut Criterion) {
    let mut group = c.benchmark_group("rate_limit");
    group.throughput(Throughput::Elements(1));
    // A limit no client reaches: the steady state of a busy public read.
    let limits = RateLimits::new(0, u32::MAX, Vec::new());
    let one: IpAddr = "203.0.113.7".parse().unwrap();
    group.bench_function("one address", |b| b.iter(|| limits.check(Group::SchemaUtils, one)));
    // Many addresses: the map holds 10,000 of them.
    let addresses: Vec<IpAddr> = (0..10_000u32).map(|n| IpAddr::from((0x0a00_0000 + n).to_be_bytes())).collect();
    let mut next = 0;
    group.bench_function("10k addresses", |b| {
        b.iter(|| {
            next = (next + 1) % addresses.len();
            limits.check(Group::SchemaUtils, addresses[next])
        })
    });
    group.finish();
}

criterion_group!(benches, rate_limit);
criterion_main!(benches);
