//! Search benchmark, three measurements in one run (reports, never asserts):
//!
//! 1. Query latency: p50/p99 of 1–3-word queries with facets on one generated tenant of
//!    100,000 listings, Tantivy (`portico-search`, the same query building and filter the API
//!    uses) against PostgreSQL full-text search (`tsvector` + GIN) on the same rows, when
//!    `PORTICO_BENCH_PG` names a server (e.g. postgres://postgres@127.0.0.1:5432).
//! 2. Write-to-searchable latency: a listing renamed through the store (one transaction with
//!    its outbox row) until the indexer task has made it searchable, on the demo dataset.
//! 3. Resident memory after touching 10,000 small tenant indexes in rotation (bounded cache
//!    of open indexes).
//!
//!   cargo run --release -p portico-bench --bin search
//!   SEARCH_BENCH_LISTINGS=100000 SEARCH_BENCH_TENANTS=10000 PORTICO_BENCH_PG=postgres://postgres@127.0.0.1:5432 cargo run --release -p portico-bench --bin search

use std::sync::Arc;
use std::time::{Duration, Instant};

use portico_search::{
    Indexer, IndexerOptions, SearchOptions, SearchRequest, SearchService, Visibility,
};
use portico_store::model::{Listing, ListingStatus, Region, Visibility as Vis};
use portico_store::{IndexListing, ListingChanges, Store, StoreOptions};

const BRANDS: &[&str] = &[
    "Acme",
    "Bosk",
    "Makara",
    "Dewald",
    "Festo",
    "Hilton",
    "Metabo",
    "Ryon",
    "Stanfield",
    "Kraftwerk",
    "Wera",
    "Knipex",
    "Fein",
    "Hazet",
    "Gedore",
    "Irwin",
    "Bahco",
    "Facom",
    "Proxon",
    "Einhell",
];
const NOUNS: &[&str] = &[
    "drill",
    "grinder",
    "saw",
    "compressor",
    "sander",
    "router",
    "planer",
    "hammer",
    "wrench",
    "screwdriver",
    "pliers",
    "chisel",
    "level",
    "clamp",
    "vice",
    "generator",
    "welder",
    "jigsaw",
    "nailer",
    "stapler",
    "blower",
    "vacuum",
    "lamp",
    "ladder",
    "winch",
    "pump",
    "heater",
    "mixer",
    "trimmer",
    "mower",
];
const ADJECTIVES: &[&str] = &[
    "cordless",
    "compact",
    "heavy",
    "brushless",
    "professional",
    "precision",
    "industrial",
    "portable",
    "magnetic",
    "hydraulic",
    "pneumatic",
    "electric",
    "rotary",
    "angle",
    "impact",
    "orbital",
    "digital",
    "mini",
    "turbo",
    "silent",
];
const CATEGORIES: &[&str] = &[
    "Power Tools/Drills",
    "Power Tools/Saws",
    "Power Tools/Grinders",
    "Power Tools/Sanders",
    "Hand Tools/Wrenches",
    "Hand Tools/Pliers",
    "Hand Tools/Screwdrivers",
    "Workshop/Compressors",
    "Workshop/Welding",
    "Workshop/Storage",
    "Outdoor/Garden",
    "Outdoor/Winches",
    "Safety/Gloves",
    "Safety/Eyewear",
    "Lighting/Work Lights",
];

/// A small deterministic generator (xorshift): the same data every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next(items.len())]
    }
}

fn generate(tenant: &str, count: usize, rng: &mut Rng) -> Vec<IndexListing> {
    (0..count)
        .map(|i| {
            let brand = rng.pick(BRANDS);
            let noun = rng.pick(NOUNS);
            let adjective = rng.pick(ADJECTIVES);
            let size = 10 + rng.next(990);
            let regions = match rng.next(3) {
                0 => vec![Region::Eu],
                1 => vec![Region::Na],
                _ => vec![Region::Eu, Region::Na],
            };
            IndexListing {
                listing: Listing {
                    id: format!("{tenant}-{i:06}"),
                    tenant_id: tenant.to_owned(),
                    master_product_id: None,
                    sku: format!(
                        "{}-{}-{size}-{i}",
                        &brand[..3].to_uppercase(),
                        &noun[..3].to_uppercase()
                    ),
                    name: format!("{brand} {adjective} {noun} {size}"),
                    description: Some(format!(
                        "A {} {noun} by {brand} for {} work, {size} series.",
                        rng.pick(ADJECTIVES),
                        rng.pick(&["workshop", "site", "garden", "marine", "garage"])
                    )),
                    brand: Some(brand.to_owned()),
                    category: Some(rng.pick(CATEGORIES).to_owned()),
                    supplier: None,
                    status: if rng.next(10) == 0 {
                        ListingStatus::Inactive
                    } else {
                        ListingStatus::Active
                    },
                    visibility: if rng.next(20) == 0 {
                        Vis::Restricted
                    } else {
                        Vis::All
                    },
                    cost: None,
                    regions,
                    version: 1,
                },
                customers: Vec::new(),
                attributes: None,
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn median(samples: &[Duration]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    percentile(&sorted, 0.5)
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "| {name} | {} | {:.2} | {:.2} | {:.2} |",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        percentile(&samples, 1.0)
    );
}

fn queries(rng: &mut Rng, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let words = 1 + rng.next(3);
            let mut q: Vec<String> = Vec::new();
            for w in 0..words {
                let word = match w {
                    0 => rng.pick(NOUNS),
                    1 => rng.pick(BRANDS),
                    _ => rng.pick(ADJECTIVES),
                };
                q.push(word.to_lowercase());
            }
            q.join(" ")
        })
        .collect()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn postgres_fts(
    url: &str,
    listings: &[IndexListing],
    qs: &[String],
) -> anyhow::Result<Vec<Duration>> {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&format!("{url}/postgres")).await?;
    sqlx::query("DROP DATABASE IF EXISTS portico_search_bench WITH (FORCE)")
        .execute(&mut admin)
        .await?;
    sqlx::query("CREATE DATABASE portico_search_bench")
        .execute(&mut admin)
        .await?;
    let mut db = sqlx::PgConnection::connect(&format!("{url}/portico_search_bench")).await?;
    sqlx::query(
        "CREATE TABLE listings (id text PRIMARY KEY, sku text, name text, description text, brand text, \
         category text, regions text[], status text, visibility text, \
         tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(sku,'') || ' ' || name || ' ' || \
         coalesce(brand,'') || ' ' || coalesce(category,'') || ' ' || coalesce(description,''))) STORED)",
    )
    .execute(&mut db)
    .await?;
    for chunk in listings.chunks(5000) {
        let col =
            |f: &dyn Fn(&IndexListing) -> String| chunk.iter().map(f).collect::<Vec<String>>();
        sqlx::query(
            "INSERT INTO listings (id, sku, name, description, brand, category, regions, status, visibility) \
             SELECT id, sku, name, description, brand, category, string_to_array(regions, ','), status, visibility \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) \
             AS t(id, sku, name, description, brand, category, regions, status, visibility)",
        )
        .bind(col(&|l| l.listing.id.clone()))
        .bind(col(&|l| l.listing.sku.clone()))
        .bind(col(&|l| l.listing.name.clone()))
        .bind(col(&|l| l.listing.description.clone().unwrap_or_default()))
        .bind(col(&|l| l.listing.brand.clone().unwrap_or_default()))
        .bind(col(&|l| l.listing.category.clone().unwrap_or_default()))
        .bind(col(&|l| l.listing.regions.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")))
        .bind(col(&|l| l.listing.status.as_str().to_owned()))
        .bind(col(&|l| l.listing.visibility.as_str().to_owned()))
        .execute(&mut db)
        .await?;
    }
    sqlx::query("CREATE INDEX listings_tsv ON listings USING gin (tsv)")
        .execute(&mut db)
        .await?;
    sqlx::query("ANALYZE listings").execute(&mut db).await?;
    // The same filter as the Tantivy side (active, sold in EU, visible to all), the page, the
    // total and both facets in one statement; the last word as a prefix (type-ahead).
    let sql = "WITH m AS (SELECT id, brand, split_part(category, '/', 1) AS top, ts_rank(tsv, q) AS rank \
               FROM listings, to_tsquery('simple', $1) q \
               WHERE tsv @@ q AND status = 'ACTIVE' AND 'EU' = ANY(regions) AND visibility = 'ALL') \
               SELECT (SELECT count(*) FROM m), \
               (SELECT json_agg(id) FROM (SELECT id FROM m ORDER BY rank DESC, id LIMIT 20) p)::text, \
               (SELECT json_agg(json_build_array(top, n))::text FROM (SELECT top, count(*) n FROM m GROUP BY top) c), \
               (SELECT json_agg(json_build_array(brand, n))::text FROM (SELECT brand, count(*) n FROM m GROUP BY brand) b)";
    let mut samples = Vec::new();
    for (i, q) in qs.iter().enumerate() {
        let words: Vec<&str> = q.split_whitespace().collect();
        let tsq = words
            .iter()
            .enumerate()
            .map(|(j, w)| {
                if j + 1 == words.len() {
                    format!("{w}:*")
                } else {
                    (*w).to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" & ");
        let started = Instant::now();
        let _: (i64, Option<String>, Option<String>, Option<String>) =
            sqlx::query_as(sql).bind(&tsq).fetch_one(&mut db).await?;
        if i >= 20 {
            samples.push(started.elapsed());
        }
    }
    db.close().await?;
    sqlx::query("DROP DATABASE IF EXISTS portico_search_bench WITH (FORCE)")
        .execute(&mut admin)
        .await?;
    Ok(samples)
}

async fn write_to_searchable(root: &std::path::Path) -> anyhow::Result<Vec<Duration>> {
    let url = format!("sqlite:{}", root.join("portico.db").display());
    let store = Store::connect(&url, &StoreOptions::default()).await?;
    store.migrate().await?;
    store.seed_demo().await?;
    let directory = Arc::new(store.load_directory().await?);
    let northwind = directory
        .tenant_by_slug("northwind")
        .expect("demo")
        .id
        .clone();
    let search = Arc::new(SearchService::new(
        root.join("search"),
        SearchOptions::default(),
    ));
    let source = directory.clone();
    let mut indexer = Indexer::new(
        store.clone(),
        search.clone(),
        Arc::new(move || source.clone()),
        IndexerOptions::default(),
    );
    indexer.prepare().await?;
    let task = tokio::spawn(indexer.run(std::future::pending()));
    let scope = directory.scope_of_all();
    let turbine = store
        .listings_for_index(&scope, &northwind, None)
        .await?
        .into_iter()
        .find(|l| l.listing.sku == "NW-TURBINE")
        .expect("demo turbine");
    let audit = portico_store::model::NewAuditEntry {
        actor: "bench".into(),
        actor_tenant: northwind.clone(),
        action: String::new(),
        target: String::new(),
        before_state: None,
        after_state: None,
        reason: Some("search benchmark".into()),
    };
    let visibility = Visibility {
        active_only: false,
        sold_in: None,
        visible_to: None,
    };
    let mut samples = Vec::new();
    for (i, version) in (turbine.listing.version..).take(30).enumerate() {
        let name = format!("Northwind Zephyr{i} Turbine");
        let changes = ListingChanges {
            name: Some(name.clone()),
            ..ListingChanges::default()
        };
        // Renames arrive at random points of the indexer's polling cycle.
        tokio::time::sleep(Duration::from_millis(((i * 7919) % 250) as u64)).await;
        let started = Instant::now();
        store
            .update_listing(
                &scope,
                &northwind,
                &turbine.listing.id,
                version,
                &changes,
                &audit,
            )
            .await?;
        let request = SearchRequest {
            text: format!("zephyr{i}"),
            limit: 1,
            ..SearchRequest::default()
        };
        loop {
            let found = search
                .search(&northwind, visibility.clone(), request.clone())
                .await?;
            // The new name itself (a fuzzy match of an earlier one does not count).
            let named = |h: &portico_search::Hit| {
                h.highlights
                    .iter()
                    .any(|x| x.field == "name" && x.text == name)
            };
            if found.hits.iter().any(named) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "never became searchable"
            );
        }
        samples.push(started.elapsed());
    }
    task.abort();
    Ok(samples)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let listings_n = env_usize("SEARCH_BENCH_LISTINGS", 100_000);
    let tenants_n = env_usize("SEARCH_BENCH_TENANTS", 10_000);
    let parts = std::env::var("SEARCH_BENCH_PARTS").unwrap_or_else(|_| "latency,fresh,many".into());
    let part = |name: &str| parts.split(',').any(|p| p.trim() == name);
    let work = tempfile::tempdir()?;
    let mut rng = Rng(0x5EED_1234_ABCD);
    if parts != "rotation" {
        println!(
            "# Search benchmark ({} cores)",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        println!();
    }

    if part("latency") {
        // 1. Query latency on one large tenant.
        let listings = generate("big", listings_n, &mut rng);
        // Every query computed: the result cache is off here.
        let search = Arc::new(SearchService::new(
            work.path().join("search"),
            SearchOptions {
                result_cache_entries: 0,
                ..SearchOptions::default()
            },
        ));
        let started = Instant::now();
        search.rebuild("big", listings.clone()).await?;
        println!(
            "Indexed {listings_n} listings in {:.1} s.",
            started.elapsed().as_secs_f64()
        );
        println!();
        let qs = queries(&mut rng, 520);
        let visibility = Visibility {
            active_only: true,
            sold_in: Some("EU".into()),
            visible_to: Some("some-customer".into()),
        };
        let mut tantivy = Vec::new();
        for (i, q) in qs.iter().enumerate() {
            let request = SearchRequest {
                text: q.clone(),
                limit: 20,
                ..SearchRequest::default()
            };
            let started = Instant::now();
            search.search("big", visibility.clone(), request).await?;
            if i >= 20 {
                tantivy.push(started.elapsed());
            }
        }
        println!(
            "| query path ({listings_n} listings, 1–3 words, page of 20 + total + 2 facets) | queries | p50 ms | p99 ms | max ms |"
        );
        println!("|---|---|---|---|---|");
        let tantivy_p50 = median(&tantivy);
        report(
            "Tantivy (portico-search, typo-tolerant, highlights; result cache off)",
            tantivy,
        );
        let pg_p50 = match std::env::var("PORTICO_BENCH_PG") {
            Ok(url) => {
                let samples = postgres_fts(&url, &listings, &qs).await?;
                let p50 = median(&samples);
                report(
                    "PostgreSQL FTS (tsvector + GIN, prefix on the last word, no typos)",
                    samples,
                );
                Some(p50)
            }
            Err(_) => {
                println!("| PostgreSQL FTS | skipped: set PORTICO_BENCH_PG | | | |");
                None
            }
        };
        println!();
        if let Some(pg) = pg_p50 {
            println!(
                "Median: PostgreSQL FTS ÷ Tantivy = {:.2} (issue 17's target: ≥ 2).",
                pg / tantivy_p50
            );
            println!();
        }
        drop(listings);
        println!();
    }
    if part("fresh") {
        // 2. Write to searchable.
        let demo = work.path().join("demo");
        std::fs::create_dir_all(&demo)?;
        println!(
            "| write → searchable (rename via the store, indexer polling every 200 ms) | renames | p50 ms | p99 ms | max ms |"
        );
        println!("|---|---|---|---|---|");
        report("demo northwind, SQLite", write_to_searchable(&demo).await?);
        println!();
    }
    if part("many") {
        // 3. Memory across many small tenants.
        let many = Arc::new(SearchService::new(
            work.path().join("many"),
            SearchOptions::default(),
        ));
        let started = Instant::now();
        let small: Vec<Vec<IndexListing>> = (0..tenants_n)
            .map(|t| generate(&format!("t{t}"), 20, &mut rng))
            .collect();
        for (t, docs) in small.into_iter().enumerate() {
            many.rebuild(&format!("t{t}"), docs).await?;
        }
        println!(
            "Created {tenants_n} tenant indexes of 20 listings in {:.0} s (resident memory of the writing process: {} MiB).",
            started.elapsed().as_secs_f64(),
            rss_kib() / 1024
        );
        println!();
        drop(many);
        // Searching happens in a process of its own, as a server that only searches would:
        // nothing of the writing (the generated listings, writers' buffers) is resident there.
        let status = std::process::Command::new(std::env::current_exe()?)
            .env("SEARCH_BENCH_PARTS", "rotation")
            .env("SEARCH_BENCH_ROTATION_DIR", work.path().join("many"))
            .env("SEARCH_BENCH_TENANTS", tenants_n.to_string())
            .status()?;
        anyhow::ensure!(status.success(), "the searching process failed: {status}");
    }
    if part("rotation") {
        let dir = std::env::var("SEARCH_BENCH_ROTATION_DIR")?;
        let many = Arc::new(SearchService::new(dir, SearchOptions::default()));
        println!("| searches so far (tenants in rotation) | open indexes | resident MiB |");
        println!("|---|---|---|");
        let vis = Visibility {
            active_only: true,
            sold_in: None,
            visible_to: None,
        };
        let marks = [100, 1_000, tenants_n / 2, tenants_n, 2 * tenants_n];
        // Every search in rotation opens an index that is not open (10,000 tenants, 64
        // open): each sample is a cold open plus one search.
        let mut cold = Vec::with_capacity(2 * tenants_n);
        for touch in 1..=(2 * tenants_n) {
            let t = (touch - 1) % tenants_n;
            let request = SearchRequest {
                text: "drill".into(),
                limit: 5,
                ..SearchRequest::default()
            };
            let started = Instant::now();
            many.search(&format!("t{t}"), vis.clone(), request).await?;
            cold.push(started.elapsed());
            if marks.contains(&touch) {
                println!("| {touch} | {} | {} |", many.open_count(), rss_kib() / 1024);
            }
        }
        println!();
        println!(
            "| cold open + first search (one of {tenants_n} indexes, 64 open, a process that only searches) | searches | p50 ms | p99 ms | max ms |"
        );
        println!("|---|---|---|---|---|");
        report("in rotation", cold);
    }
    Ok(())
}
