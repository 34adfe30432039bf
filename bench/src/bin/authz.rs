//! Decisions per second: the Oso engine uncached, and behind the exact decision cache.
//!
//!     cargo run --release -p portico-bench --bin authz
//!
//! The fact mix: the demo's twelve distinct actors (role × tenant kind × regions) against every
//! resource of every kind's finite domain and every action.

use std::hint::black_box;
use std::time::{Duration, Instant};

use portico_bench::{micros, percentile};
use portico_policies::*;

fn demo_actors() -> Vec<Actor> {
    use Region::*;
    use Role::*;
    use TenantKind::*;
    vec![
        Actor::anonymous(),
        Actor::new(Platform, [PlatformAdmin], [Eu, Na, Apac]),
        Actor::new(Reseller, [ResellerAdmin], [Eu, Na, Apac]),
        Actor::new(Reseller, [PricingManager], [Eu, Na, Apac]),
        Actor::new(Reseller, [SalesRep], [Eu]),
        Actor::new(Reseller, [SalesRep], [Na]),
        Actor::new(Reseller, [Support], [Eu, Na, Apac]),
        Actor::new(Customer, [CustomerAdmin], [Eu]),
        Actor::new(Customer, [Buyer], [Eu]),
        Actor::new(Customer, [Viewer], [Eu]),
        Actor::new(Customer, [CustomerAdmin], [Na]),
        Actor::new(Customer, [Buyer], [Na]),
    ]
}

fn main() {
    let actors = demo_actors();
    let facts: Vec<(Actor, Action, Resource)> = actors
        .iter()
        .flat_map(|a| {
            Kind::ALL.iter().flat_map(move |&k| {
                domain(k).flat_map(move |r| {
                    Action::ALL
                        .iter()
                        .map(move |&act| (a.clone(), act, r.clone()))
                })
            })
        })
        .collect();
    println!("# Authorization decisions\n");
    println!(
        "{} distinct fact tuples ({} actors × every kind's domain × {} actions)\n",
        facts.len(),
        actors.len(),
        Action::ALL.len()
    );

    // Uncached: a sample of the tuples straight through Polar, each timed.
    let engine = OsoEngine::new(DEFAULT_POLICY).expect("the policy loads");
    let sample: Vec<_> = facts.iter().step_by((facts.len() / 3000).max(1)).collect();
    let mut times = Vec::with_capacity(sample.len());
    let started = Instant::now();
    let mut allowed = 0usize;
    for (a, act, r) in &sample {
        let t = Instant::now();
        allowed += usize::from(black_box(engine.decide(a, *act, r)).allowed);
        times.push(t.elapsed());
    }
    let uncached_total = started.elapsed();
    times.sort();
    let uncached_rate = sample.len() as f64 / uncached_total.as_secs_f64();
    println!("| measure | value |\n|---|---|");
    println!(
        "| uncached decisions (sample) | {} ({} allowed) |",
        sample.len(),
        allowed
    );
    println!("| uncached decisions/s | {uncached_rate:.0} |");
    println!(
        "| uncached p50 / p99 / max | {:.0} µs / {:.0} µs / {:.0} µs |",
        micros(percentile(&times, 50.0)),
        micros(percentile(&times, 99.0)),
        micros(*times.last().unwrap())
    );

    // Field sets: one query with the field unbound.
    let mut field_times = Vec::new();
    for (a, _, r) in sample.iter().take(1000) {
        let t = Instant::now();
        black_box(engine.fields(a, Action::Read, r));
        field_times.push(t.elapsed());
    }
    field_times.sort();
    println!(
        "| uncached field set p50 / p99 | {:.0} µs / {:.0} µs |",
        micros(percentile(&field_times, 50.0)),
        micros(percentile(&field_times, 99.0))
    );

    // Cached: warm every tuple once, then look them up again and again.
    let cached = CachedAuthorizer::new(OsoEngine::new(DEFAULT_POLICY).unwrap());
    let warm = Instant::now();
    for (a, act, r) in &facts {
        black_box(cached.decide(a, *act, r));
    }
    let warm_time = warm.elapsed();
    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        for (a, act, r) in &facts {
            black_box(cached.decide(a, *act, r));
        }
    }
    let cached_total = started.elapsed();
    let cached_rate = (facts.len() * rounds) as f64 / cached_total.as_secs_f64();
    println!(
        "| warming the cache ({} tuples) | {:.2} s |",
        facts.len(),
        warm_time.as_secs_f64()
    );
    println!("| cached decisions/s | {cached_rate:.0} |");
    println!("| cached per decision | {:.2} µs |", 1e6 / cached_rate);
    println!(
        "| cached ÷ uncached throughput | {:.0}× |",
        cached_rate / uncached_rate
    );

    // A list scope: the allowed facts of a kind for one actor, cold (enumerating the domain).
    let fresh = CachedAuthorizer::new(OsoEngine::new(DEFAULT_POLICY).unwrap());
    let mut scope_times: Vec<Duration> = Vec::new();
    for a in &actors {
        let t = Instant::now();
        black_box(fresh.allowed_set(a, Action::Read, Kind::Customer));
        scope_times.push(t.elapsed());
    }
    scope_times.sort();
    println!(
        "| cold customer scope per actor ({} facts) p50 / max | {:.1} ms / {:.1} ms |",
        domain(Kind::Customer).count(),
        percentile(&scope_times, 50.0).as_secs_f64() * 1e3,
        scope_times.last().unwrap().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    for _ in 0..10_000 {
        black_box(fresh.allowed_set(&actors[2], Action::Read, Kind::Customer));
    }
    println!(
        "| warm customer scope lookup | {:.2} µs |",
        micros(t.elapsed()) / 10_000.0
    );
}
