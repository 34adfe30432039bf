//! Real portal traffic benchmark (reports, never asserts): many users of several customers and
//! roles, first and deep catalog pages, filters, searches with facets and highlights, and a
//! pricing manager's writes at a steady rate, per scenario and per kind of request.
//!
//! The server is the release `portico` binary (`serve --demo`, default settings) in a process of
//! its own, on SQLite in a temporary directory and, when `PORTICO_BENCH_PG` names a server, on
//! PostgreSQL in a fresh database `portico_traffic` (dropped at the end). Tokens come from
//! `portico token`. The load generator is this process: `TRAFFIC_CONCURRENCY` (32) visitors in a
//! closed loop over one pooled HTTP/1.1 client, each a demo user (round-robin over `PERSONAS`:
//! buyers, customer admins and a viewer of four customers on two resellers' portals, and
//! northwind's pricing manager, admin, sales reps and support) with its own seeded random
//! sequence, so the requests are the same from run to run. Request bodies are built before the
//! run except those that carry a cursor taken from the previous answer.
//!
//! Scenarios, each `TRAFFIC_WARMUP_SECS` (3) of warm-up then `TRAFFIC_SECS` (10) measured:
//!   1  one page, one buyer: `bench/catalog.lua`'s page as alpine's buyer on every connection;
//!   2  pages and filters: a visitor reads its catalog from the first page, following
//!      `pageInfo.endCursor` 1 to 8 pages deep, or a filtered listing (category, brand, both;
//!      region for staff) 1 to 3 pages deep;
//!   3  searches only: a query from `QUERIES` (words of the demo catalog, brands, units, SKUs,
//!      misspellings, prefixes), then sometimes a facet clicked or the next page of hits;
//!   4  pages and searches mixed, half and half;
//!   5  the same mix while northwind's pricing manager renames a listing and changes a price at
//!      `TRAFFIC_WRITES_PER_SEC` (5) writes per second (alternately `updateListing` and
//!      `setPrices`, over 24 listings spread across the catalog);
//!   and 4 again after 5, so drift on the shared machine shows beside the ratio 5 ÷ 4.
//! `TRAFFIC_SCENARIOS=1,3` runs a subset, `TRAFFIC_SQLITE=0` skips SQLite.
//!
//! Any answer that is not 200 or carries GraphQL `errors` is an error: counted per kind and the
//! first ones printed. CPU is read from /proc: the server process's, this process's, the whole
//! machine's (PostgreSQL's own processes are only in the last).
//!
//!   cargo build --release -p portico -p portico-bench
//!   PORTICO_BENCH_PG=postgres://postgres@127.0.0.1:5432 cargo run --release -p portico-bench --bin traffic

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use portico_bench::{env_u64, percentile};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use serde_json::{Value, json};
use sqlx::Connection;

const NORTHWIND: &str = "northwind.localhost";
const CONTOSO: &str = "contoso.localhost";

/// What a role may read of a product: the fields its pages and hits select, so that a correct
/// answer never carries a FIELD_MASKED error (which counts as an error here).
#[derive(Clone, Copy)]
enum Sees {
    /// Customer admins and buyers: their net price and the list price.
    Prices,
    /// Viewers: no prices at all.
    NoPrices,
    /// Reseller admins and pricing managers: list price, cost and margin.
    Costs,
    /// Sales reps: list prices, never costs.
    ListPrices,
    /// Support: the descriptions.
    Descriptions,
}

impl Sees {
    fn fields(self) -> &'static str {
        match self {
            Sees::Prices => {
                "id sku name brand category price { amount { amount currency } source } listPrice { amount currency }"
            }
            Sees::NoPrices => "id sku name brand category",
            Sees::Costs => {
                "id sku name brand category status version listPrice { amount currency } costPrice { amount currency } margin"
            }
            Sees::ListPrices => "id sku name brand category status listPrice { amount currency }",
            Sees::Descriptions => "id sku name brand category status",
        }
    }
}

/// A demo user (DESIGN section 9) on its reseller's portal.
struct Persona {
    email: &'static str,
    host: &'static str,
    sees: Sees,
    /// Staff see every region of their reseller, so a region filter means something to them.
    staff: bool,
}

const fn persona(email: &'static str, host: &'static str, sees: Sees, staff: bool) -> Persona {
    Persona {
        email,
        host,
        sees,
        staff,
    }
}

/// Visitors are dealt these in turn: mostly customers' buyers and admins (EU and NA, on both
/// resellers' portals), one viewer, and a few of northwind's staff.
const PERSONAS: [Persona; 16] = [
    persona("buyer@alpine.test", NORTHWIND, Sees::Prices, false),
    persona("buyer@prairie.test", NORTHWIND, Sees::Prices, false),
    persona("buyer@harbor.test", CONTOSO, Sees::Prices, false),
    persona("admin@fjord.test", NORTHWIND, Sees::Prices, false),
    persona("admin@alpine.test", NORTHWIND, Sees::Prices, false),
    persona("viewer@alpine.test", NORTHWIND, Sees::NoPrices, false),
    persona("admin@prairie.test", NORTHWIND, Sees::Prices, false),
    persona("admin@harbor.test", CONTOSO, Sees::Prices, false),
    persona("pricing@northwind.test", NORTHWIND, Sees::Costs, true),
    persona("rep-eu@northwind.test", NORTHWIND, Sees::ListPrices, true),
    persona("buyer@alpine.test", NORTHWIND, Sees::Prices, false),
    persona("buyer@prairie.test", NORTHWIND, Sees::Prices, false),
    persona("rep-na@northwind.test", NORTHWIND, Sees::ListPrices, true),
    persona(
        "support@northwind.test",
        NORTHWIND,
        Sees::Descriptions,
        true,
    ),
    persona("admin@northwind.test", NORTHWIND, Sees::Costs, true),
    persona("admin@contoso.test", CONTOSO, Sees::Costs, true),
];

/// Who writes in scenario 5.
const WRITER: Persona = persona("pricing@northwind.test", NORTHWIND, Sees::Costs, true);

/// Scenario 1's page, byte for byte `bench/catalog.lua`'s, so the two compare.
const REFERENCE_PAGE: &str = r#"{"query":"{ products(first: 20) { edges { node { id sku name brand price { amount { amount currency } source priceList } listPrice { amount currency } } } } }"}"#;
const REFERENCE_USER: &str = "buyer@alpine.test";

/// What portal users type, from the demo catalog (`store/src/seed/products.rs`): product types,
/// brand + type, units and sizes, SKUs, misspellings, half-typed words, accents.
const QUERIES: &[&str] = &[
    "drill",
    "cordless drill",
    "hammer drill",
    "impact driver",
    "circular saw",
    "jigsaw",
    "reciprocating saw",
    "angle grinder",
    "orbit sander",
    "plunge router",
    "torque wrench",
    "wrench set",
    "screwdriver set",
    "pliers",
    "claw hammer",
    "laser distance meter",
    "spirit level",
    "air compressor",
    "mig welder",
    "tool chest",
    "workbench",
    "bench vise",
    "inverter generator",
    "pressure washer",
    "chainsaw",
    "safety glasses",
    "ear defenders",
    "work gloves",
    "led work light",
    "anchor assortment",
    "wood screws",
    "multimeter",
    "extension reel",
    "turbine",
    "compressor",
    "acme drill",
    "kraftwerk angle grinder",
    "voltline impact driver",
    "hartwell chainsaw",
    "titanis welder",
    "baywood workbench",
    "granite circular saw",
    "stanhope torque wrench",
    "ironclad hammer",
    "norsk verktøy",
    "norsk verktoy",
    "18v",
    "18V drill",
    "125mm grinder",
    "1/2in",
    "brushless",
    "stainless screws",
    "100L compressor",
    "50m",
    "ACM-DRL-18",
    "NW-TURBINE",
    "compresor",
    "grinde",
    "dril",
    "chainsw",
    "multimetr",
    "wrnch",
    "screwdiver",
    "torqe wrench",
    "presure washer",
    "genrator",
    "safty glasses",
    "dri",
    "grin",
    "comp",
    "saf",
    "pres",
    "lev",
    "torq",
    "hamm",
];

/// Facets a searcher clicks after a query (a category path or a brand).
fn search_filters() -> Vec<Value> {
    vec![
        json!({ "category": "Power Tools" }),
        json!({ "category": "Hand Tools" }),
        json!({ "category": "Workshop/Compressors" }),
        json!({ "category": "Power Tools/Drills" }),
        json!({ "brand": "Acme" }),
        json!({ "brand": "Kraftwerk" }),
        json!({ "brand": "Hartwell" }),
        json!({ "category": "Outdoor", "brand": "Titanis" }),
    ]
}

/// Catalog filters (`ProductFilter`): categories at both levels, brands, both; regions for staff.
fn page_filters(staff: bool) -> Vec<Value> {
    let mut filters = vec![
        json!({ "category": "Power Tools" }),
        json!({ "category": "Hand Tools" }),
        json!({ "category": "Workshop" }),
        json!({ "category": "Outdoor" }),
        json!({ "category": "Power Tools/Saws" }),
        json!({ "category": "Hand Tools/Wrenches" }),
        json!({ "category": "Safety/Gloves" }),
        json!({ "category": "Electrical/Testers" }),
        json!({ "brand": "Acme" }),
        json!({ "brand": "Voltline" }),
        json!({ "brand": "Granite" }),
        json!({ "brand": "Baywood" }),
        json!({ "category": "Power Tools", "brand": "Kraftwerk" }),
        json!({ "category": "Workshop", "brand": "Stanhope" }),
    ];
    if staff {
        filters.push(json!({ "region": "EU" }));
        filters.push(json!({ "region": "NA" }));
        filters.push(json!({ "region": "NA", "category": "Power Tools" }));
    }
    filters
}

const PAGE_SIZE: u32 = 20;
const MAX_DEPTH: usize = 8;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Page,
    FilteredPage,
    DeepPage,
    Search,
    Write,
}

const KINDS: [Kind; 5] = [
    Kind::Page,
    Kind::FilteredPage,
    Kind::DeepPage,
    Kind::Search,
    Kind::Write,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Page => "page (first)",
            Kind::FilteredPage => "filtered page",
            Kind::DeepPage => "deep page (2–8)",
            Kind::Search => "search",
            Kind::Write => "write",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    OnePage,
    Pages,
    Searches,
    Mixed,
    MixedWithWrites,
}

impl Scenario {
    fn parse(s: &str) -> anyhow::Result<Scenario> {
        Ok(match s.trim() {
            "1" => Scenario::OnePage,
            "2" => Scenario::Pages,
            "3" => Scenario::Searches,
            "4" => Scenario::Mixed,
            "5" => Scenario::MixedWithWrites,
            other => anyhow::bail!("TRAFFIC_SCENARIOS: {other:?} is not a scenario (1 to 5)"),
        })
    }

    fn number(self) -> u64 {
        match self {
            Scenario::OnePage => 1,
            Scenario::Pages => 2,
            Scenario::Searches => 3,
            Scenario::Mixed => 4,
            Scenario::MixedWithWrites => 5,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Scenario::OnePage => "one page, one buyer",
            Scenario::Pages => "pages + filters, many users",
            Scenario::Searches => "searches only",
            Scenario::Mixed => "pages and searches mixed",
            Scenario::MixedWithWrites => "mixed, with writes",
        }
    }
}

/// SplitMix64: a visitor's deterministic sequence of choices.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0 ≤ n < bound.
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

fn page_query(sees: Sees) -> String {
    format!(
        "query($first: Int, $after: String, $filter: ProductFilter) {{ products(first: $first, after: $after, filter: $filter) {{ edges {{ node {{ {} }} }} pageInfo {{ hasNextPage endCursor }} }} }}",
        sees.fields()
    )
}

fn search_query(sees: Sees) -> String {
    format!(
        "query($q: String!, $first: Int, $after: String, $filter: SearchFilter) {{ search(query: $q, first: $first, after: $after, filter: $filter) {{ total hits {{ score product {{ {} }} highlights {{ field text ranges {{ start end }} }} }} facets {{ field values {{ value count }} }} pageInfo {{ hasNextPage endCursor }} }} }}",
        sees.fields()
    )
}

/// A signed-in visitor's identity and its prepared requests.
struct Caller {
    email: &'static str,
    host: HeaderValue,
    auth: HeaderValue,
    staff: bool,
    page_query: String,
    search_query: String,
    first_page: String,
    filters: Vec<Value>,
    filtered_first: Vec<String>,
    /// The first request of each of `QUERIES`.
    searches: Vec<String>,
}

impl Caller {
    fn new(p: &Persona, token: &str) -> anyhow::Result<Caller> {
        let page_query = page_query(p.sees);
        let search_query = search_query(p.sees);
        let filters = page_filters(p.staff);
        let mut caller = Caller {
            email: p.email,
            host: HeaderValue::from_static(p.host),
            auth: HeaderValue::from_str(&format!("Bearer {token}"))?,
            staff: p.staff,
            page_query,
            search_query,
            first_page: String::new(),
            filtered_first: Vec::new(),
            filters,
            searches: Vec::new(),
        };
        caller.first_page = caller.page(None, None);
        caller.filtered_first = caller
            .filters
            .iter()
            .map(|f| caller.page(Some(f), None))
            .collect();
        caller.searches = QUERIES
            .iter()
            .map(|q| caller.search(q, None, None))
            .collect();
        Ok(caller)
    }

    fn page(&self, filter: Option<&Value>, after: Option<&str>) -> String {
        json!({ "query": self.page_query, "variables": { "first": PAGE_SIZE, "after": after, "filter": filter } })
            .to_string()
    }

    fn search(&self, q: &str, filter: Option<&Value>, after: Option<&str>) -> String {
        json!({ "query": self.search_query, "variables": { "q": q, "first": PAGE_SIZE, "after": after, "filter": filter } })
            .to_string()
    }
}

/// Where the server listens and the one pooled client that talks to it.
struct Target {
    client: reqwest::Client,
    url: String,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// The JSON value after `"key":` (from the end: `pageInfo` closes every page), whitespace allowed.
fn value_after<'a>(body: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let at = find(body, key)? + key.len();
    let rest = &body[at..];
    let start = rest
        .iter()
        .position(|b| !matches!(b, b':' | b' ' | b'\n'))?;
    Some(&rest[start..])
}

/// The next page's cursor when the answer says there is one.
fn next_cursor(body: &[u8]) -> Option<String> {
    if !value_after(body, b"\"hasNextPage\"")?.starts_with(b"true") {
        return None;
    }
    let value = value_after(body, b"\"endCursor\"")?.strip_prefix(b"\"")?;
    let end = value.iter().position(|&b| b == b'"')?;
    String::from_utf8(value[..end].to_vec()).ok()
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(400).collect();
    if text.chars().count() > 400 {
        s.push('…');
    }
    s
}

impl Target {
    /// One POST to /graphql; the body when it is 200 without GraphQL `errors`.
    async fn post(&self, caller: &Caller, body: String) -> Result<impl AsRef<[u8]>, String> {
        let response = self
            .client
            .post(&self.url)
            .header(HOST, caller.host.clone())
            .header(AUTHORIZATION, caller.auth.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("{status}, body: {e}"))?;
        // A well-formed answer has `"errors"` only as its top-level key: strings inside it are
        // escaped, and no field of the schema is called `errors`.
        if status != reqwest::StatusCode::OK || find(&bytes, b"\"errors\"").is_some() {
            return Err(format!("{status} {}", snippet(&bytes)));
        }
        Ok(bytes)
    }

    /// The same, parsed (setup and writes only).
    async fn ask(&self, caller: &Caller, query: &str, variables: Value) -> anyhow::Result<Value> {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let bytes = self
            .post(caller, body)
            .await
            .map_err(|e| anyhow::anyhow!("{} {query}: {e}", caller.email))?;
        Ok(serde_json::from_slice(bytes.as_ref())?)
    }
}

/// What a run measured, per kind.
#[derive(Default)]
struct Tally {
    latencies: [Vec<Duration>; 5],
    errors: [usize; 5],
    first_errors: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for i in 0..KINDS.len() {
            self.latencies[i].extend_from_slice(&other.latencies[i]);
            self.errors[i] += other.errors[i];
        }
        for e in other.first_errors {
            if self.first_errors.len() < 5 {
                self.first_errors.push(e);
            }
        }
    }
}

/// What a request led to.
enum Reply {
    /// The window is over: nothing was sent.
    Over,
    /// Answered (or failed): no page follows.
    Last,
    /// Answered with a next page.
    More(String),
}

/// One visitor of a run: its caller, its sequence of choices and what it measured.
struct Visitor<'a> {
    load: &'a Load,
    caller: &'a Caller,
    rng: Rng,
    from: Instant,
    end: Instant,
    tally: Tally,
}

impl Visitor<'_> {
    async fn send(&mut self, kind: Kind, body: String) -> Reply {
        let started = Instant::now();
        if started >= self.end {
            return Reply::Over;
        }
        let answer = self.load.target.post(self.caller, body).await;
        let took = started.elapsed();
        let counted = started >= self.from;
        let k = kind as usize;
        match answer {
            Ok(bytes) => {
                if counted {
                    self.tally.latencies[k].push(took);
                }
                match next_cursor(bytes.as_ref()) {
                    Some(cursor) => Reply::More(cursor),
                    None => Reply::Last,
                }
            }
            Err(e) => {
                if counted {
                    self.tally.errors[k] += 1;
                    if self.tally.first_errors.len() < 3 {
                        self.tally.first_errors.push(format!(
                            "{} as {}: {e}",
                            kind.name(),
                            self.caller.email
                        ));
                    }
                }
                Reply::Last
            }
        }
    }

    /// The catalog from its first page, 1 to 8 pages deep; or a filtered listing, 1 to 3 deep.
    async fn browse(&mut self) {
        let caller = self.caller;
        if self.rng.below(10) < 4 {
            let f = self.rng.below(caller.filters.len());
            let pages = 1 + self.rng.below(3);
            let mut reply = self
                .send(Kind::FilteredPage, caller.filtered_first[f].clone())
                .await;
            for _ in 1..pages {
                let Reply::More(cursor) = reply else { return };
                reply = self
                    .send(
                        Kind::FilteredPage,
                        caller.page(Some(&caller.filters[f]), Some(&cursor)),
                    )
                    .await;
            }
        } else {
            let pages = 1 + self.rng.below(MAX_DEPTH);
            let mut reply = self.send(Kind::Page, caller.first_page.clone()).await;
            for _ in 1..pages {
                let Reply::More(cursor) = reply else { return };
                reply = self
                    .send(Kind::DeepPage, caller.page(None, Some(&cursor)))
                    .await;
            }
        }
    }

    /// A query; then in 3 of 10 a facet clicked, in 1.5 of 10 the next page of hits.
    async fn search(&mut self, filters: &[Value]) {
        let caller = self.caller;
        let q = self.rng.below(QUERIES.len());
        let reply = self.send(Kind::Search, caller.searches[q].clone()).await;
        let roll = self.rng.below(100);
        let filter = &filters[self.rng.below(filters.len())];
        match reply {
            Reply::Over => {}
            _ if roll < 30 => {
                self.send(Kind::Search, caller.search(QUERIES[q], Some(filter), None))
                    .await;
            }
            Reply::More(cursor) if roll < 45 => {
                self.send(Kind::Search, caller.search(QUERIES[q], None, Some(&cursor)))
                    .await;
            }
            _ => {}
        }
    }
}

/// Everything a run needs: the server, the callers, the reference page's caller.
struct Load {
    target: Target,
    callers: Vec<Caller>,
    reference: usize,
    search_filters: Vec<Value>,
}

async fn visit(
    load: Arc<Load>,
    scenario: Scenario,
    visitor: usize,
    from: Instant,
    end: Instant,
) -> Tally {
    let caller = match scenario {
        Scenario::OnePage => &load.callers[load.reference],
        _ => &load.callers[visitor % load.callers.len()],
    };
    let mut v = Visitor {
        load: &load,
        caller,
        rng: Rng::new(scenario.number() << 32 | visitor as u64),
        from,
        end,
        tally: Tally::default(),
    };
    let filters = load.search_filters.clone();
    while Instant::now() < end {
        match scenario {
            Scenario::OnePage => {
                v.send(Kind::Page, REFERENCE_PAGE.to_owned()).await;
            }
            Scenario::Pages => v.browse().await,
            Scenario::Searches => v.search(&filters).await,
            Scenario::Mixed | Scenario::MixedWithWrites => {
                if v.rng.below(2) == 0 {
                    v.browse().await;
                } else {
                    v.search(&filters).await;
                }
            }
        }
    }
    v.tally
}

/// A listing the pricing manager renames and reprices, back and forth.
struct Listing {
    id: String,
    name: String,
    version: i64,
    /// Its price at quantity 1 in the EU list, in cents.
    cents: i64,
    renamed: bool,
    raised: bool,
}

/// The pricing manager's state between writes.
struct Writer {
    caller: Caller,
    list_id: String,
    list_version: i64,
    listings: Vec<Listing>,
    next: usize,
}

const UPDATE_LISTING: &str = "mutation($input: UpdateListingInput!) { updateListing(input: $input) { product { id name version } } }";
const SET_PRICES: &str =
    "mutation($input: SetPricesInput!) { setPrices(input: $input) { priceList { version } } }";
const EU_LIST: &str = "Northwind EU 2026";

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn cents(amount: &str) -> Option<i64> {
    let (units, fraction) = amount.split_once('.').unwrap_or((amount, "0"));
    Some(units.parse::<i64>().ok()? * 100 + format!("{fraction:0<2}")[..2].parse::<i64>().ok()?)
}

/// Every edge of a catalog, 100 at a time.
async fn walk(
    target: &Target,
    caller: &Caller,
    fields: &str,
    filter: Value,
) -> anyhow::Result<Vec<Value>> {
    let query = format!(
        "query($after: String, $filter: ProductFilter) {{ products(first: 100, after: $after, filter: $filter) {{ edges {{ node {{ {fields} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    );
    let mut nodes = Vec::new();
    let mut after = Value::Null;
    loop {
        let r = target
            .ask(caller, &query, json!({ "after": after, "filter": filter }))
            .await?;
        let page = &r["data"]["products"];
        for e in page["edges"].as_array().into_iter().flatten() {
            nodes.push(e["node"].clone());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return Ok(nodes);
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

impl Writer {
    /// The EU price list and 24 active EU listings spread over northwind's catalog, with the
    /// prices an EU customer without contracts (fjord) pays for them.
    async fn prepare(target: &Target, caller: Caller, fjord: &Caller) -> anyhow::Result<Writer> {
        let lists = target
            .ask(&caller, "{ priceLists { id name version } }", json!({}))
            .await?;
        let list = lists["data"]["priceLists"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["name"] == EU_LIST)
            .ok_or_else(|| anyhow::anyhow!("no price list {EU_LIST:?}: {lists}"))?;
        let staff = walk(
            target,
            &caller,
            "id name version",
            json!({ "region": "EU", "status": "ACTIVE" }),
        )
        .await?;
        let prices: BTreeMap<String, i64> =
            walk(target, fjord, "id listPrice { amount }", json!(null))
                .await?
                .into_iter()
                .filter_map(|n| {
                    Some((
                        n["id"].as_str()?.to_owned(),
                        cents(n["listPrice"]["amount"].as_str()?)?,
                    ))
                })
                .collect();
        let step = (staff.len() / 24).max(1);
        let listings: Vec<Listing> = staff
            .iter()
            .step_by(step)
            .filter_map(|n| {
                let id = n["id"].as_str()?.to_owned();
                Some(Listing {
                    cents: *prices.get(&id)?,
                    name: n["name"].as_str()?.to_owned(),
                    version: n["version"].as_i64()?,
                    id,
                    renamed: false,
                    raised: false,
                })
            })
            .take(24)
            .collect();
        anyhow::ensure!(
            !listings.is_empty(),
            "no EU listing with a price to write to ({} listings, {} prices)",
            staff.len(),
            prices.len()
        );
        Ok(Writer {
            caller,
            list_id: list["id"].as_str().unwrap_or_default().to_owned(),
            list_version: list["version"].as_i64().unwrap_or_default(),
            listings,
            next: 0,
        })
    }

    /// One write: the next listing renamed (or named back), or its EU price raised by 1 % (or
    /// set back), with both tiers (1 and 10+) as the seed has them.
    async fn write(&mut self, target: &Target) -> anyhow::Result<()> {
        let i = self.next;
        self.next += 1;
        let n = self.listings.len();
        let listing = &mut self.listings[(i / 2) % n];
        if i.is_multiple_of(2) {
            let name = if listing.renamed {
                listing.name.clone()
            } else {
                format!("{} Plus", listing.name)
            };
            let r = target
                .ask(
                    &self.caller,
                    UPDATE_LISTING,
                    json!({ "input": { "id": listing.id, "expectedVersion": listing.version, "name": name } }),
                )
                .await?;
            listing.version = r["data"]["updateListing"]["product"]["version"]
                .as_i64()
                .ok_or_else(|| anyhow::anyhow!("no version in {r}"))?;
            listing.renamed = !listing.renamed;
        } else {
            let amount = if listing.raised {
                listing.cents
            } else {
                listing.cents * 101 / 100
            };
            let r = target
                .ask(
                    &self.caller,
                    SET_PRICES,
                    json!({ "input": {
                        "priceListId": self.list_id,
                        "expectedVersion": self.list_version,
                        "productId": listing.id,
                        "tiers": [
                            { "minQuantity": 1, "amount": money(amount) },
                            { "minQuantity": 10, "amount": money(amount * 95 / 100) },
                        ],
                    } }),
                )
                .await?;
            self.list_version = r["data"]["setPrices"]["priceList"]["version"]
                .as_i64()
                .ok_or_else(|| anyhow::anyhow!("no version in {r}"))?;
            listing.raised = !listing.raised;
        }
        Ok(())
    }

    /// After a failed write: the versions as the server has them now.
    async fn resync(&mut self, target: &Target) -> anyhow::Result<()> {
        let lists = target
            .ask(&self.caller, "{ priceLists { id version } }", json!({}))
            .await?;
        if let Some(list) = lists["data"]["priceLists"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["id"] == self.list_id.as_str())
        {
            self.list_version = list["version"].as_i64().unwrap_or(self.list_version);
        }
        for listing in &mut self.listings {
            let r = target
                .ask(
                    &self.caller,
                    "query($id: ID!) { product(id: $id) { version } }",
                    json!({ "id": listing.id }),
                )
                .await?;
            listing.version = r["data"]["product"]["version"]
                .as_i64()
                .unwrap_or(listing.version);
        }
        Ok(())
    }
}

/// The writer's loop: `rate` writes per second on a fixed schedule until `end`.
async fn write_steadily(
    load: Arc<Load>,
    mut writer: Writer,
    rate: f64,
    from: Instant,
    end: Instant,
) -> (Writer, Tally) {
    let mut tally = Tally::default();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let started = Instant::now();
        if started >= end {
            return (writer, tally);
        }
        let result = writer.write(&load.target).await;
        let counted = started >= from;
        let k = Kind::Write as usize;
        match result {
            Ok(()) => {
                if counted {
                    tally.latencies[k].push(started.elapsed());
                }
            }
            Err(e) => {
                if counted {
                    tally.errors[k] += 1;
                    if tally.first_errors.len() < 3 {
                        tally.first_errors.push(format!("write: {e}"));
                    }
                }
                if let Err(e) = writer.resync(&load.target).await
                    && tally.first_errors.len() < 3
                {
                    tally.first_errors.push(format!("write, resync: {e}"));
                }
            }
        }
    }
}

/// CPU time from /proc, in ticks (USER_HZ, 100 a second on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // utime and stime are fields 14 and 15; the command (field 2) may hold spaces.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// (busy, total) ticks of the whole machine.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = cpu.iter().take(8).sum();
    let idle = cpu.get(3)? + cpu.get(4)?;
    Some((total - idle, total))
}

struct Cpu {
    at: Instant,
    server: Option<u64>,
    own: Option<u64>,
    machine: Option<(u64, u64)>,
}

impl Cpu {
    fn now(server: u32) -> Cpu {
        Cpu {
            at: Instant::now(),
            server: process_ticks(server),
            own: process_ticks(std::process::id()),
            machine: machine_ticks(),
        }
    }

    /// (server, load generator) in % of one core, and the machine's busy share in %.
    fn since(&self, before: &Cpu) -> (Option<f64>, Option<f64>, Option<f64>) {
        let secs = self.at.duration_since(before.at).as_secs_f64();
        let core = |a: Option<u64>, b: Option<u64>| {
            Some((a? - b?) as f64 / TICKS_PER_SECOND / secs * 100.0)
        };
        let machine = match (self.machine, before.machine) {
            (Some((busy, total)), Some((busy0, total0))) if total > total0 => {
                Some((busy - busy0) as f64 / (total - total0) as f64 * 100.0)
            }
            _ => None,
        };
        (
            core(self.server, before.server),
            core(self.own, before.own),
            machine,
        )
    }
}

struct Settings {
    concurrency: usize,
    warmup: Duration,
    measured: Duration,
    writes_per_sec: f64,
    scenarios: Vec<Scenario>,
}

/// One scenario's figures.
struct Run {
    scenario: Scenario,
    label: String,
    tally: Tally,
    secs: f64,
    server_cpu: Option<f64>,
    own_cpu: Option<f64>,
    machine: Option<f64>,
}

impl Run {
    fn all(&self) -> (usize, Vec<Duration>, usize) {
        let mut all: Vec<Duration> = self.tally.latencies.iter().flatten().copied().collect();
        all.sort();
        (all.len(), all, self.tally.errors.iter().sum())
    }

    fn per_second(&self) -> f64 {
        self.all().0 as f64 / self.secs
    }

    fn p99(&self) -> Duration {
        percentile(&self.all().1, 99.0)
    }
}

async fn run_scenario(
    load: &Arc<Load>,
    writer: &mut Option<Writer>,
    settings: &Settings,
    scenario: Scenario,
    label: String,
    server_pid: u32,
) -> anyhow::Result<Run> {
    let start = Instant::now();
    let from = start + settings.warmup;
    let end = from + settings.measured;
    let visitors: Vec<_> = (0..settings.concurrency)
        .map(|i| tokio::spawn(visit(load.clone(), scenario, i, from, end)))
        .collect();
    let writes = match (scenario, writer.take()) {
        (Scenario::MixedWithWrites, Some(w)) if settings.writes_per_sec > 0.0 => {
            Some(tokio::spawn(write_steadily(
                load.clone(),
                w,
                settings.writes_per_sec,
                from,
                end,
            )))
        }
        (_, w) => {
            *writer = w;
            None
        }
    };
    tokio::time::sleep_until(from.into()).await;
    let before = Cpu::now(server_pid);
    tokio::time::sleep_until(end.into()).await;
    let after = Cpu::now(server_pid);
    let mut tally = Tally::default();
    for v in visitors {
        tally.merge(v.await?);
    }
    if let Some(w) = writes {
        let (w, t) = w.await?;
        tally.merge(t);
        *writer = Some(w);
    }
    for l in &mut tally.latencies {
        l.sort();
    }
    let (server_cpu, own_cpu, machine) = after.since(&before);
    Ok(Run {
        scenario,
        label,
        tally,
        secs: settings.measured.as_secs_f64(),
        server_cpu,
        own_cpu,
        machine,
    })
}

/// The server process; killed when dropped.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn database_env(database_url: Option<&str>) -> Vec<(&'static str, String)> {
    database_url
        .map(|url| ("PORTICO_DATABASE_URL", url.to_owned()))
        .into_iter()
        .collect()
}

async fn start_server(
    bin: &Path,
    dir: &Path,
    database_url: Option<&str>,
) -> anyhow::Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log = dir.join("serve.log");
    let out = File::create(&log)?;
    let child = Command::new(bin)
        .arg("serve")
        .arg("--demo")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .env("PORTICO_LOG__FILTER", "warn")
        .envs(database_env(database_url))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", bin.display()))?;
    let mut server = Server { child, port, log };
    let health = format!("http://127.0.0.1:{port}/healthz");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if let Some(status) = server.child.try_wait()? {
            anyhow::bail!(
                "the server exited ({status}) before it answered /healthz; the end of its log ({}):\n{}",
                server.log.display(),
                log_tail(&server.log)
            );
        }
        if let Ok(r) = client.get(&health).send().await
            && r.status().is_success()
        {
            return Ok(server);
        }
        if Instant::now() > deadline {
            let tail = log_tail(&server.log);
            server.child.kill().ok();
            anyhow::bail!(
                "the server did not answer /healthz within 180 s; the end of its log:\n{tail}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A demo user's token from `portico token` (ten hours, longer than any run).
async fn token(
    bin: &Path,
    dir: &Path,
    database_url: Option<&str>,
    email: &str,
) -> anyhow::Result<String> {
    let mut command = Command::new(bin);
    command
        .args(["token", "--ttl", "600", "--user", email, "--data-dir"])
        .arg(dir.join("data"))
        .env("PORTICO_LOG__FILTER", "warn")
        .envs(database_env(database_url));
    let output = tokio::task::spawn_blocking(move || command.output()).await??;
    anyhow::ensure!(
        output.status.success(),
        "portico token --user {email}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// Waits while a portal's search index is still being built at start (`UNAVAILABLE`).
async fn wait_for_search(target: &Target, caller: &Caller) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        match target.post(caller, caller.searches[0].clone()).await {
            Ok(_) => return Ok(()),
            Err(e) if e.contains("UNAVAILABLE") && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => anyhow::bail!("search as {} does not answer: {e}", caller.email),
        }
    }
}

/// One backend: start the server, prepare, run every scenario, stop. The figures and the
/// problems the probes found.
async fn backend(
    bin: &Path,
    database_url: Option<&str>,
    settings: &Settings,
) -> anyhow::Result<(Vec<Run>, Vec<String>, usize)> {
    let dir = tempfile::tempdir()?;
    let server = start_server(bin, dir.path(), database_url).await?;
    let result = drive(bin, dir.path(), database_url, settings, &server).await;
    match result {
        Ok(r) => Ok(r),
        Err(e) => Err(e.context(format!(
            "the end of the server's log:\n{}",
            log_tail(&server.log)
        ))),
    }
}

async fn drive(
    bin: &Path,
    dir: &Path,
    database_url: Option<&str>,
    settings: &Settings,
    server: &Server,
) -> anyhow::Result<(Vec<Run>, Vec<String>, usize)> {
    let mut tokens: BTreeMap<&str, String> = BTreeMap::new();
    for p in PERSONAS.iter().chain([&WRITER]) {
        if !tokens.contains_key(p.email) {
            tokens.insert(p.email, token(bin, dir, database_url, p.email).await?);
        }
    }
    let callers = PERSONAS
        .iter()
        .map(|p| Caller::new(p, &tokens[p.email]))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let reference = callers
        .iter()
        .position(|c| c.email == REFERENCE_USER)
        .unwrap_or(0);
    let target = Target {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(settings.concurrency * 2)
            .tcp_nodelay(true)
            .http1_only()
            .timeout(Duration::from_secs(60))
            .build()?,
        url: format!("http://127.0.0.1:{}/graphql", server.port),
    };
    for host in [NORTHWIND, CONTOSO] {
        if let Some(c) = callers.iter().find(|c| c.host == host) {
            wait_for_search(&target, c).await?;
        }
    }
    let search_filters = search_filters();
    // Every caller's kinds of request once: a query that fails here fails in every run, and
    // the first request of each caller (its list scopes) is not measured.
    let mut problems = Vec::new();
    for c in &callers {
        let mut probes = vec![
            ("page", c.first_page.clone()),
            ("search", c.searches[0].clone()),
            (
                "search with a facet",
                c.search(QUERIES[1], Some(&search_filters[0]), None),
            ),
        ];
        probes.extend(
            c.filtered_first
                .iter()
                .map(|b| ("filtered page", b.clone())),
        );
        for (what, body) in probes {
            if let Err(e) = target.post(c, body).await {
                problems.push(format!("{what} as {} (staff: {}): {e}", c.email, c.staff));
            }
        }
    }
    let fjord = callers
        .iter()
        .find(|c| c.email == "admin@fjord.test")
        .ok_or_else(|| anyhow::anyhow!("no fjord caller"))?;
    let writer_caller = Caller::new(&WRITER, &tokens[WRITER.email])?;
    let mut writer = Some(Writer::prepare(&target, writer_caller, fjord).await?);
    let write_targets = writer.as_ref().map_or(0, |w| w.listings.len());
    let load = Arc::new(Load {
        target,
        callers,
        reference,
        search_filters,
    });
    let mut runs = Vec::new();
    let mut seen = Vec::new();
    for &scenario in &settings.scenarios {
        let again = seen.contains(&scenario);
        seen.push(scenario);
        let label = format!("{}{}", scenario.number(), if again { " again" } else { "" });
        eprintln!("traffic: scenario {label}: {}", scenario.title());
        runs.push(
            run_scenario(
                &load,
                &mut writer,
                settings,
                scenario,
                label,
                server.child.id(),
            )
            .await?,
        );
    }
    Ok((runs, problems, write_targets))
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.0} %"))
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "**not met**" }
}

/// The targets of issue 17 on one backend, as lines; and the values for the summary table.
struct Targets {
    ratio: Option<(f64, String)>,
    mixed_p99: Option<Duration>,
    writes_p99: Option<Duration>,
    searches: Option<(f64, Duration)>,
}

fn targets(runs: &[Run]) -> Targets {
    let mixed: Vec<&Run> = runs
        .iter()
        .filter(|r| r.scenario == Scenario::Mixed)
        .collect();
    let with_writes = runs
        .iter()
        .find(|r| r.scenario == Scenario::MixedWithWrites);
    let ratio = match (mixed.is_empty(), with_writes) {
        (false, Some(w)) => {
            let without = mixed.iter().map(|r| r.per_second()).sum::<f64>() / mixed.len() as f64;
            let drift = match (mixed.first(), mixed.last()) {
                (Some(a), Some(b)) if mixed.len() > 1 => format!(
                    "; scenario {} differs from {} by {:+.1} %",
                    b.label,
                    a.label,
                    (b.per_second() - a.per_second()) / a.per_second() * 100.0
                ),
                _ => String::new(),
            };
            Some((
                w.per_second() / without,
                format!(
                    "{:.0} against {without:.0} requests/s (the mean of the mixed runs without writes{drift})",
                    w.per_second()
                ),
            ))
        }
        _ => None,
    };
    Targets {
        ratio,
        mixed_p99: mixed.first().map(|r| r.p99()),
        writes_p99: with_writes.map(Run::p99),
        searches: runs
            .iter()
            .find(|r| r.scenario == Scenario::Searches)
            .map(|r| (r.per_second(), r.p99())),
    }
}

fn report(
    title: &str,
    runs: &[Run],
    problems: &[String],
    written: usize,
    settings: &Settings,
) -> Targets {
    println!("## {title}");
    println!();
    println!(
        "Writes (scenario 5) go to {written} listings spread over northwind's catalog, each \
         renamed and repriced in turn."
    );
    println!();
    println!(
        "| # | traffic | requests/s | p50 ms | p99 ms | errors | server CPU | load generator CPU | machine busy |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in runs {
        let (n, all, errors) = r.all();
        println!(
            "| {} | {} | {:.0} | {} | {} | {} | {} | {} | {} |",
            r.label,
            r.scenario.title(),
            n as f64 / r.secs,
            ms(percentile(&all, 50.0)),
            ms(percentile(&all, 99.0)),
            errors,
            percent(r.server_cpu),
            percent(r.own_cpu),
            percent(r.machine),
        );
    }
    println!();
    println!("Per kind of request:");
    println!();
    println!("| # | kind | requests | requests/s | p50 ms | p99 ms | errors |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for r in runs {
        for (k, kind) in KINDS.iter().enumerate() {
            let l = &r.tally.latencies[k];
            if l.is_empty() && r.tally.errors[k] == 0 {
                continue;
            }
            println!(
                "| {} | {} | {} | {:.0} | {} | {} | {} |",
                r.label,
                kind.name(),
                l.len(),
                l.len() as f64 / r.secs,
                ms(percentile(l, 50.0)),
                ms(percentile(l, 99.0)),
                r.tally.errors[k],
            );
        }
    }
    println!();
    let t = targets(runs);
    if let Some((ratio, how)) = &t.ratio {
        println!(
            "- Mixed with writes ({} writes/s) ÷ mixed without: **{:.0} %** ({how}); target ≥ 80 %: {}.",
            settings.writes_per_sec,
            ratio * 100.0,
            met(*ratio >= 0.8)
        );
    }
    if let Some(p99) = t.mixed_p99 {
        println!(
            "- Mixed p99 {} ms without writes, {} with; target ≤ 50 ms: {} without writes, {} with.",
            ms(p99),
            t.writes_p99.map_or("–".into(), ms),
            met(p99 <= Duration::from_millis(50)),
            t.writes_p99
                .map_or("–", |p| met(p <= Duration::from_millis(50))),
        );
    }
    if let Some((rate, p99)) = t.searches {
        println!(
            "- Searches only: {rate:.0} searches/s (target ≥ 2,000: {}), p99 {} ms (target ≤ 25 ms: {}).",
            met(rate >= 2000.0),
            ms(p99),
            met(p99 <= Duration::from_millis(25)),
        );
    }
    println!();
    let errors: Vec<&String> = runs
        .iter()
        .flat_map(|r| r.tally.first_errors.iter())
        .collect();
    if !problems.is_empty() || !errors.is_empty() {
        println!("Errors (first ones):");
        println!();
        for p in problems.iter().take(10) {
            println!("- probe before the runs: `{p}`");
        }
        for e in errors.iter().take(10) {
            println!("- `{e}`");
        }
        println!();
    }
    t
}

/// Today's date (UTC) from the system clock, as YYYY-MM-DD.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn main() -> anyhow::Result<()> {
    let threads = env_u64("TRAFFIC_CLIENT_THREADS", 2).max(1) as usize;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?
        .block_on(run(threads))
}

async fn run(threads: usize) -> anyhow::Result<()> {
    let settings = Settings {
        concurrency: env_u64("TRAFFIC_CONCURRENCY", 32).max(1) as usize,
        warmup: Duration::from_secs(env_u64("TRAFFIC_WARMUP_SECS", 3)),
        measured: Duration::from_secs(env_u64("TRAFFIC_SECS", 10).max(1)),
        writes_per_sec: std::env::var("TRAFFIC_WRITES_PER_SEC")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5.0),
        scenarios: std::env::var("TRAFFIC_SCENARIOS")
            .unwrap_or_else(|_| "1,2,3,4,5,4".into())
            .split(',')
            .map(Scenario::parse)
            .collect::<anyhow::Result<_>>()?,
    };
    let bin = match std::env::var_os("PORTICO_BIN") {
        Some(path) => PathBuf::from(path),
        None => std::env::current_exe()?
            .parent()
            .map(|d| d.join("portico"))
            .unwrap_or_default(),
    };
    anyhow::ensure!(
        bin.is_file(),
        "{} is missing: build the server first (cargo build --release -p portico), or name it in PORTICO_BIN",
        bin.display()
    );
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "# Portal traffic ({}, concurrency {}, {} s warm-up + {} s measured per scenario, {cores} cores)",
        today(),
        settings.concurrency,
        settings.warmup.as_secs(),
        settings.measured.as_secs()
    );
    println!();
    println!(
        "The release server (`{}`, `serve --demo`, default settings) in its own process; this \
         process drives it over loopback HTTP/1.1 with {} visitors in a closed loop on {threads} \
         threads, each a demo user (round-robin over {} of them: buyers, customer admins and a \
         viewer of alpine, prairie, fjord and harbor on northwind's and contoso's portals; northwind's \
         pricing manager, admin, sales reps and support; contoso's admin) with a seeded sequence of \
         choices. Scenario 5 adds northwind's pricing manager renaming a listing or changing its EU \
         price at {} writes/s. Pages are 20 products, searches 20 hits with highlights and facets. \
         An error is any answer that is not 200 or carries GraphQL `errors`. CPU: % of one core \
         for the server and for the load generator; machine busy: % of all cores (PostgreSQL and \
         anything else running count there only). Load average at the start: {}.",
        bin.display(),
        settings.concurrency,
        PERSONAS
            .iter()
            .map(|p| p.email)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        settings.writes_per_sec,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    );
    println!();

    let mut summary: Vec<(&str, Targets)> = Vec::new();
    match std::env::var("PORTICO_BENCH_PG") {
        Ok(server_url) => {
            let name = "portico_traffic";
            let mut admin = sqlx::PgConnection::connect(&server_url).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await?;
            let mut url = reqwest::Url::parse(&server_url)?;
            url.set_path(name);
            let result = backend(&bin, Some(url.as_str()), &settings).await;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await?;
            admin.close().await.ok();
            let (runs, problems, written) = result?;
            summary.push((
                "PostgreSQL",
                report("PostgreSQL", &runs, &problems, written, &settings),
            ));
        }
        Err(_) => {
            println!("## PostgreSQL");
            println!();
            println!("Skipped: set PORTICO_BENCH_PG (e.g. postgres://postgres@127.0.0.1:5432).");
            println!();
        }
    }
    if env_u64("TRAFFIC_SQLITE", 1) != 0 {
        let (runs, problems, written) = backend(&bin, None, &settings).await?;
        summary.push((
            "SQLite",
            report("SQLite", &runs, &problems, written, &settings),
        ));
    }

    if !summary.is_empty() {
        println!("## Targets of issue 17");
        println!();
        let names: Vec<&str> = summary.iter().map(|(n, _)| *n).collect();
        println!("| target | {} |", names.join(" | "));
        println!("|---|{}", "---|".repeat(names.len()));
        let row = |what: &str, f: &dyn Fn(&Targets) -> String| {
            let cells: Vec<String> = summary.iter().map(|(_, t)| f(t)).collect();
            println!("| {what} | {} |", cells.join(" | "));
        };
        row("mixed with writes ÷ without ≥ 80 %", &|t| {
            t.ratio.as_ref().map_or("–".into(), |(r, _)| {
                format!("{:.0} % ({})", r * 100.0, met(*r >= 0.8))
            })
        });
        row(
            "mixed p99 ≤ 50 ms (without / with writes)",
            &|t| match (t.mixed_p99, t.writes_p99) {
                (Some(a), Some(b)) => format!(
                    "{} / {} ms ({} / {})",
                    ms(a),
                    ms(b),
                    met(a <= Duration::from_millis(50)),
                    met(b <= Duration::from_millis(50))
                ),
                (Some(a), None) => {
                    format!("{} ms ({})", ms(a), met(a <= Duration::from_millis(50)))
                }
                _ => "–".into(),
            },
        );
        row("searches ≥ 2,000/s", &|t| {
            t.searches.map_or("–".into(), |(r, _)| {
                format!("{r:.0}/s ({})", met(r >= 2000.0))
            })
        });
        row("search p99 ≤ 25 ms", &|t| {
            t.searches.map_or("–".into(), |(_, p)| {
                format!("{} ms ({})", ms(p), met(p <= Duration::from_millis(25)))
            })
        });
        println!();
    }
    Ok(())
}
