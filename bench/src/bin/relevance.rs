//! Relevance benchmark (reports, never asserts): the judged queries of
//! `bench/relevance/demo.yaml` run against the demo catalog of northwind, seeded into a fresh
//! SQLite database, as one of northwind's staff would search it (every ACTIVE listing, any
//! region, restricted ones included). Reported: NDCG@10 and MRR@10 overall and per query
//! class, for Portico's search (`portico_search::SearchService`, the index and query building
//! the API uses) and, when `PORTICO_BENCH_PG` names a server, for PostgreSQL full-text search
//! on the same rows (the baseline of `bench/src/bin/search.rs`: `tsvector` over SKU, name,
//! brand, category and description with the `simple` configuration, GIN, every word required,
//! the last one as a prefix, no typo tolerance, ordered by `ts_rank`); then Portico's worst
//! queries.
//!
//!   cargo run --release -p portico-bench --bin relevance
//!   PORTICO_BENCH_PG=postgres://postgres@127.0.0.1:5432 cargo run --release -p portico-bench --bin relevance
//!
//! `RELEVANCE_PER_QUERY=1` adds a table of every query; `RELEVANCE_JUDGEMENTS=FILE` reads
//! another judgement file.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use portico_bench::relevance::{
    Class, JudgedQuery, TENANT, demo_catalog, judgements_path, load, ndcg_at, reciprocal_rank_at,
};
use portico_search::{SearchOptions, SearchRequest, SearchService, Visibility};
use portico_store::IndexListing;

/// Results judged per query: NDCG@K, MRR@K.
const K: usize = 10;
/// Rows of the worst-queries table.
const WORST: usize = 15;

/// One engine's ranked SKUs for each query, in the judgement file's order.
struct Engine {
    name: &'static str,
    ranked: Vec<Vec<String>>,
}

struct Scores {
    ndcg: Vec<f64>,
    rr: Vec<f64>,
}

fn score(queries: &[JudgedQuery], engine: &Engine) -> Scores {
    let mut ndcg = Vec::new();
    let mut rr = Vec::new();
    for (q, ranked) in queries.iter().zip(&engine.ranked) {
        let grades = q.grades();
        let got: Vec<u8> = ranked
            .iter()
            .map(|sku| grades.get(sku.as_str()).copied().unwrap_or(0))
            .collect();
        let judged: Vec<u8> = grades.values().copied().collect();
        ndcg.push(ndcg_at(K, &got, &judged));
        rr.push(reciprocal_rank_at(K, &got));
    }
    Scores { ndcg, rr }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Portico: the real index, built as the indexer builds it, and the API's query path.
async fn portico(
    root: &std::path::Path,
    tenant: &str,
    listings: &[IndexListing],
    queries: &[JudgedQuery],
) -> anyhow::Result<Engine> {
    let search = Arc::new(SearchService::new(root, SearchOptions::default()));
    search.rebuild(tenant, listings.to_vec()).await?;
    let sku_of: HashMap<&str, &str> = listings
        .iter()
        .map(|l| (l.listing.id.as_str(), l.listing.sku.as_str()))
        .collect();
    // Northwind's staff: every ACTIVE listing, any region, restricted ones too.
    let visibility = Visibility {
        active_only: true,
        sold_in: None,
        visible_to: None,
    };
    let mut ranked = Vec::new();
    for q in queries {
        let request = SearchRequest {
            text: q.query.clone(),
            limit: K,
            ..SearchRequest::default()
        };
        let found = search.search(tenant, visibility.clone(), request).await?;
        ranked.push(
            found
                .hits
                .iter()
                .map(|h| {
                    sku_of
                        .get(h.listing_id.as_str())
                        .map_or_else(|| h.listing_id.clone(), |s| (*s).to_owned())
                })
                .collect(),
        );
    }
    Ok(Engine {
        name: "Portico (Tantivy)",
        ranked,
    })
}

/// The user's text as a `to_tsquery` expression: each whitespace-separated word quoted (so
/// any character is safe; PostgreSQL's parser splits it as it split the documents), every word
/// required, the last one a prefix.
fn tsquery(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let quoted = format!("'{}'", w.replace('\\', "\\\\").replace('\'', "''"));
            if i + 1 == words.len() {
                format!("{quoted}:*")
            } else {
                quoted
            }
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

/// PostgreSQL FTS on the same rows, as `bench/src/bin/search.rs` sets it up.
async fn postgres(
    url: &str,
    listings: &[IndexListing],
    queries: &[JudgedQuery],
) -> anyhow::Result<Engine> {
    use sqlx::Connection;
    const DB: &str = "portico_relevance_bench";
    let mut admin = sqlx::PgConnection::connect(&format!("{url}/postgres")).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {DB}"))
        .execute(&mut admin)
        .await?;
    let mut db = sqlx::PgConnection::connect(&format!("{url}/{DB}")).await?;
    sqlx::query(
        "CREATE TABLE listings (id text PRIMARY KEY, sku text, name text, description text, brand text, \
         category text, status text, \
         tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(sku,'') || ' ' || name || ' ' || \
         coalesce(brand,'') || ' ' || coalesce(category,'') || ' ' || coalesce(description,''))) STORED)",
    )
    .execute(&mut db)
    .await?;
    let col = |f: &dyn Fn(&IndexListing) -> String| listings.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO listings (id, sku, name, description, brand, category, status) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])",
    )
    .bind(col(&|l| l.listing.id.clone()))
    .bind(col(&|l| l.listing.sku.clone()))
    .bind(col(&|l| l.listing.name.clone()))
    .bind(col(&|l| l.listing.description.clone().unwrap_or_default()))
    .bind(col(&|l| l.listing.brand.clone().unwrap_or_default()))
    .bind(col(&|l| l.listing.category.clone().unwrap_or_default()))
    .bind(col(&|l| l.listing.status.as_str().to_owned()))
    .execute(&mut db)
    .await?;
    sqlx::query("CREATE INDEX listings_tsv ON listings USING gin (tsv)")
        .execute(&mut db)
        .await?;
    sqlx::query("ANALYZE listings").execute(&mut db).await?;
    let sql = "SELECT sku FROM listings, to_tsquery('simple', $1) q \
               WHERE tsv @@ q AND status = 'ACTIVE' ORDER BY ts_rank(tsv, q) DESC, id LIMIT $2";
    let mut ranked = Vec::new();
    for q in queries {
        let skus: Vec<String> = sqlx::query_scalar(sql)
            .bind(tsquery(&q.query))
            .bind(K as i64)
            .fetch_all(&mut db)
            .await?;
        ranked.push(skus);
    }
    db.close().await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    Ok(Engine {
        name: "PostgreSQL FTS",
        ranked,
    })
}

/// A SKU with its listing's name, for the report.
fn described(sku: &str, names: &HashMap<&str, &str>) -> String {
    match names.get(sku) {
        Some(name) => format!("{sku} {name}"),
        None => sku.to_owned(),
    }
}

/// Table cells must not break the table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let path = std::env::var_os("RELEVANCE_JUDGEMENTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(judgements_path);
    let queries = load(&path)?;
    let work = tempfile::tempdir()?;
    let (_store, tenant, listings) = demo_catalog(work.path()).await?;
    let names: HashMap<&str, &str> = listings
        .iter()
        .map(|l| (l.listing.sku.as_str(), l.listing.name.as_str()))
        .collect();

    let mut engines =
        vec![portico(&work.path().join("search"), &tenant, &listings, &queries).await?];
    let pg = std::env::var("PORTICO_BENCH_PG").ok();
    if let Some(url) = &pg {
        engines.push(postgres(url, &listings, &queries).await?);
    }
    let scores: Vec<Scores> = engines.iter().map(|e| score(&queries, e)).collect();

    println!("# Relevance benchmark");
    println!();
    println!(
        "{} judged queries (`{}`) on the demo catalog of {TENANT} ({} listings), searched as its \
         staff (every ACTIVE listing, any region). NDCG@{K}: gain 2^grade − 1, discount \
         log2(rank + 1), ideal from the judgements; MRR@{K}: first result graded ≥ 2.",
        queries.len(),
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        listings.len()
    );
    println!();
    println!("| engine | NDCG@{K} | MRR@{K} | queries with nothing graded ≥ 2 in the top {K} |");
    println!("|---|---|---|---|");
    for (engine, s) in engines.iter().zip(&scores) {
        println!(
            "| {} | {:.3} | {:.3} | {} |",
            engine.name,
            mean(s.ndcg.iter().copied()),
            mean(s.rr.iter().copied()),
            s.rr.iter().filter(|&&r| r == 0.0).count()
        );
    }
    if pg.is_none() {
        println!("| PostgreSQL FTS | skipped: set PORTICO_BENCH_PG | | |");
    }
    println!();

    print!("| class | queries |");
    for engine in &engines {
        print!(" {0} NDCG@{K} | {0} MRR@{K} |", engine.name);
    }
    println!();
    println!("|---|---|{}", "---|---|".repeat(engines.len()));
    for class in Class::ALL {
        let in_class: Vec<usize> = (0..queries.len())
            .filter(|&i| queries[i].class == class)
            .collect();
        if in_class.is_empty() {
            continue;
        }
        print!("| {} | {} |", class.name(), in_class.len());
        for s in &scores {
            print!(
                " {:.3} | {:.3} |",
                mean(in_class.iter().map(|&i| s.ndcg[i])),
                mean(in_class.iter().map(|&i| s.rr[i]))
            );
        }
        println!();
    }
    println!();

    let ours = &scores[0];
    let mut order: Vec<usize> = (0..queries.len()).collect();
    order.sort_by(|&a, &b| {
        ours.ndcg[a]
            .total_cmp(&ours.ndcg[b])
            .then(ours.rr[a].total_cmp(&ours.rr[b]))
            .then(a.cmp(&b))
    });
    println!("Portico's {WORST} worst queries (lowest NDCG@{K}):");
    println!();
    println!("| query | class | NDCG@{K} | RR | first result | expected (best judged) |");
    println!("|---|---|---|---|---|---|");
    for &i in order.iter().take(WORST) {
        let q = &queries[i];
        let first = engines[0].ranked[i]
            .first()
            .map_or_else(|| "nothing".to_owned(), |s| described(s, &names));
        let mut best: Vec<(&str, u8)> = q.judged().collect();
        best.sort_by_key(|&(_, g)| std::cmp::Reverse(g));
        let top = best[0].1;
        let expected: Vec<String> = best
            .iter()
            .filter(|(_, g)| *g == top)
            .take(2)
            .map(|(s, _)| described(s, &names))
            .collect();
        let more = best.iter().filter(|(_, g)| *g == top).count() - expected.len();
        println!(
            "| `{}` | {} | {:.3} | {:.2} | {} | {}{} |",
            cell(&q.query),
            q.class.name(),
            ours.ndcg[i],
            ours.rr[i],
            cell(&first),
            cell(&expected.join("; ")),
            if more > 0 {
                format!(" (+{more} more graded {top})")
            } else {
                String::new()
            }
        );
    }
    println!();

    if std::env::var_os("RELEVANCE_PER_QUERY").is_some() {
        print!("| query | class |");
        for engine in &engines {
            print!(" {0} NDCG@{K} | {0} RR | {0} top 3 |", engine.name);
        }
        println!();
        println!("|---|---|{}", "---|---|---|".repeat(engines.len()));
        for (i, q) in queries.iter().enumerate() {
            print!("| `{}` | {} |", cell(&q.query), q.class.name());
            for (engine, s) in engines.iter().zip(&scores) {
                let top: Vec<&str> = engine.ranked[i]
                    .iter()
                    .take(3)
                    .map(String::as_str)
                    .collect();
                print!(" {:.3} | {:.2} | {} |", s.ndcg[i], s.rr[i], top.join(", "));
            }
            println!();
        }
        println!();
    }
    println!(
        "Seeded, indexed and searched in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
