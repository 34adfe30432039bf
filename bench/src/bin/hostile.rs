//! Hostile documents benchmark (reports, never asserts): how long the real server takes to
//! refuse (or answer) documents built to burn CPU, at sizes up to the body limit.
//!
//! The server is the real `portico` application on a demo SQLite database in a temporary
//! directory, with the default limits (introspection on, as in demo mode, so the introspection
//! query is the largest accepted document). Each document is POSTed `REPEATS` times over
//! loopback; the report gives its size, the answer's status and `extensions.code`, and the
//! round trip's median and maximum, beside `{ tenant { slug } }` as the floor of a request.
//!
//!   cargo run --release -p portico-bench --bin hostile

use std::time::{Duration, Instant};

use portico::{Application, Config};
use portico_tests::hostile::fan_out;

const REPEATS: usize = 20;
const HOST: &str = "northwind.localhost";

/// The most levels of fan-out that fit in `limit` bytes.
fn fan_out_up_to(on: &str, limit: usize) -> (usize, String) {
    let mut levels = 1;
    while fan_out(on, levels + 1).len() < limit {
        levels += 1;
    }
    (levels, fan_out(on, levels))
}

/// Bytes of `text` inside a JSON string (quotes and newlines escaped).
fn json_len(text: &str) -> usize {
    text.len() + text.matches(['"', '\n', '\\']).count()
}

/// Repeats `item(i)` between `open` and `close` until the JSON-escaped text reaches `limit`.
fn filled(open: &str, close: &str, limit: usize, item: impl Fn(usize) -> String) -> String {
    let mut doc = open.to_owned();
    let mut size = json_len(open) + json_len(close);
    let mut i = 0;
    loop {
        let next = item(i);
        size += json_len(&next);
        if size >= limit {
            break;
        }
        doc.push_str(&next);
        i += 1;
    }
    doc.push_str(close);
    doc
}

/// A chain of fragments nobody spreads: validation walks them all, each spreading the next.
fn unused_chain(limit: usize) -> String {
    let mut doc = String::from("{ tenant { slug } }\n");
    let mut i = 0;
    loop {
        let next = format!("fragment C{i} on Tenant {{ slug ...C{} }}\n", i + 1);
        if doc.len() + next.len() + 40 >= limit {
            break;
        }
        doc.push_str(&next);
        i += 1;
    }
    doc.push_str(&format!("fragment C{i} on Tenant {{ slug }}\n"));
    doc
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_owned(),
        demo: true,
        ..Config::default()
    };
    let limit = config.graphql.max_body_bytes;
    // The JSON envelope and escaping take some of the body; keep documents inside it.
    let doc_limit = limit - 2048;
    let app = Application::build(config).await?;
    let address = format!("http://127.0.0.1:{}/graphql", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;

    let introspection = include_str!("../../introspection.graphql").to_owned();
    let (tenant_levels, tenant_fan) = fan_out_up_to("Tenant", doc_limit);
    let (query_levels, query_fan) = fan_out_up_to("Query", doc_limit);
    let mut cases: Vec<(String, String)> = vec![
        (
            "floor: { tenant { slug } }".into(),
            "{ tenant { slug } }".into(),
        ),
        (
            "accepted: graphql-js introspection query".into(),
            introspection,
        ),
    ];
    for levels in [22, 29] {
        cases.push((
            format!("fan-out on Tenant, {levels} levels"),
            fan_out("Tenant", levels),
        ));
    }
    cases.push((
        format!("fan-out on Tenant, {tenant_levels} levels (body limit)"),
        tenant_fan,
    ));
    cases.push(("fan-out on Query, 29 levels".into(), fan_out("Query", 29)));
    cases.push((
        format!("fan-out on Query, {query_levels} levels (body limit)"),
        query_fan,
    ));
    cases.push((
        "`__typename` aliases at the root (body limit)".into(),
        filled("{ ", " }", doc_limit, |i| format!("a{i}: __typename ")),
    ));
    cases.push((
        "`slug` aliases inside `tenant` (body limit)".into(),
        filled("{ tenant { ", " } }", doc_limit, |i| format!("a{i}: slug ")),
    ));
    cases.push((
        "`search` aliases (body limit)".into(),
        filled("{ ", " }", doc_limit, |i| {
            format!("s{i}: search(query: \"drill\") {{ total }} ")
        }),
    ));
    cases.push((
        "`products(first: 100) { price }` aliases (body limit)".into(),
        filled("{ ", " }", doc_limit, |i| {
            format!("p{i}: products(first: 100) {{ edges {{ node {{ price {{ source }} }} }} }} ")
        }),
    ));
    cases.push((
        "unused fragment chain (body limit)".into(),
        unused_chain(doc_limit),
    ));
    cases.push((
        "nested brackets `{a{a{a…` (body limit)".into(),
        "{a".repeat(doc_limit / 2),
    ));
    cases.push((
        "anonymous operations `query{__typename}` (body limit)".into(),
        filled("", "", doc_limit, |i| {
            format!("query q{i} {{ __typename }}\n")
        }),
    ));

    println!("# Hostile documents");
    println!();
    println!(
        "The real server (demo SQLite, default limits, body limit {limit} bytes), {REPEATS} POSTs \
         of each document over loopback, one at a time."
    );
    println!();
    println!("| document | bytes | status | code | median | max | × floor |");
    println!("|---|---:|---:|---|---:|---:|---:|");
    // The first request of a caller computes its policy scopes: not part of any figure.
    client
        .post(&address)
        .header("host", HOST)
        .header("content-type", "application/json")
        .body(r#"{"query":"{ tenant { slug } }"}"#)
        .send()
        .await?;
    let mut floor = None;
    for (name, query) in cases {
        let body = serde_json::json!({ "query": query }).to_string();
        let mut times = Vec::with_capacity(REPEATS);
        let mut status = 0;
        let mut code = String::new();
        for _ in 0..REPEATS {
            let started = Instant::now();
            let response = client
                .post(&address)
                .header("host", HOST)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await?;
            status = response.status().as_u16();
            let json: serde_json::Value = response.json().await?;
            times.push(started.elapsed());
            code = json["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("-")
                .to_owned();
        }
        times.sort();
        let median = times[times.len() / 2];
        let max = times[times.len() - 1];
        let floor_time = *floor.get_or_insert(median);
        println!(
            "| {name} | {} | {status} | {code} | {:.2} ms | {:.2} ms | {:.1} |",
            body.len(),
            median.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3,
            median.as_secs_f64() / floor_time.as_secs_f64()
        );
    }
    Ok(())
}
