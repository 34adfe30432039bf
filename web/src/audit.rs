//! `portico audit verify` and `portico audit export`: the tenants' audit chains as an operator
//! checks them, and as a customer's auditor receives one to check offline. Both read the
//! chain a page at a time through the store (`audit_page`, `verify_audit_chain`); the hash is
//! the store's `audit_hash`, which docs/AUDIT.md spells out for verifiers outside Portico.

use std::io::Write;

use anyhow::Context as _;
use portico_store::model::{AuditEntry, Tenant};
use portico_store::{
    AUDIT_PAGE_MAX, AuditOrder, AuditQuery, Contents, Directory, Store, TenantScope, audit_time,
};
use serde::Serialize;

use crate::cli::AuditCommand;
use crate::config::Config;

pub(crate) async fn run(config: &Config, command: AuditCommand) -> anyhow::Result<()> {
    let store = open(config).await?;
    let result = match command {
        AuditCommand::Verify { tenant } => verify(&store, tenant.as_deref()).await,
        AuditCommand::Export { tenant } => export(&store, &tenant).await,
    };
    store.close().await;
    result
}

/// The configured database as it is: these commands only read, so a missing SQLite file is
/// an error (a typo in a path must not leave an empty database behind), as is an unmigrated
/// one.
async fn open(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url();
    let shown = portico_store::redact_url(&url);
    let store = Store::connect_existing(&url, &crate::app::store_options(config))
        .await
        .map_err(|e| anyhow::anyhow!("database_url: cannot open {shown}: {e}"))?
        .ok_or_else(|| anyhow::anyhow!("database_url: {shown} does not exist"))?;
    if store.contents().await? == Contents::Empty {
        store.close().await;
        anyhow::bail!("database_url: {shown} is not migrated: run `portico migrate` first");
    }
    Ok(store)
}

/// Every tenant (soft-deleted ones too: their chains stay), or the one with `slug`; by slug.
fn tenants<'a>(directory: &'a Directory, slug: Option<&str>) -> anyhow::Result<Vec<&'a Tenant>> {
    let mut tenants: Vec<&Tenant> = directory
        .tenants
        .iter()
        .filter(|t| slug.is_none_or(|s| t.slug == s))
        .collect();
    if let Some(slug) = slug
        && tenants.is_empty()
    {
        anyhow::bail!("--tenant: no tenant has the slug {slug:?}");
    }
    tenants.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok(tenants)
}

/// One line per tenant; an error (so a non-zero exit) naming the tenants whose chain breaks.
async fn verify(store: &Store, slug: Option<&str>) -> anyhow::Result<()> {
    let directory = store.load_directory().await?;
    let mut broken = Vec::new();
    for tenant in tenants(&directory, slug)? {
        // Each chain under its own tenant's scope, as a request would read it.
        let report = store
            .verify_audit_chain(&TenantScope::single(tenant.id.clone()), &tenant.id)
            .await
            .with_context(|| format!("{}: reading the audit chain", tenant.slug))?;
        let rows = match report.rows {
            1 => "1 row".to_owned(),
            n => format!("{n} rows"),
        };
        match (report.first_broken, report.problem) {
            (Some(seq), Some(problem)) => {
                println!("{}: {rows}, BROKEN at seq {seq}: {problem}", tenant.slug);
                broken.push(tenant.slug.as_str());
            }
            _ => println!("{}: {rows}, OK", tenant.slug),
        }
    }
    if broken.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("audit chain broken: {}", broken.join(", "))
    }
}

/// One exported row: the fields `audit_hash` covers, named as the columns, in the order it
/// hashes them, then the hash. `at` is the text the hash covers.
#[derive(Serialize)]
struct ExportLine<'a> {
    tenant_id: &'a str,
    seq: i64,
    actor: &'a str,
    actor_tenant: &'a str,
    action: &'a str,
    target: &'a str,
    before_state: Option<&'a str>,
    after_state: Option<&'a str>,
    reason: Option<&'a str>,
    at: String,
    prev_hash: &'a str,
    hash: &'a str,
}

impl<'a> From<&'a AuditEntry> for ExportLine<'a> {
    fn from(e: &'a AuditEntry) -> Self {
        ExportLine {
            tenant_id: &e.tenant_id,
            seq: e.seq,
            actor: &e.actor,
            actor_tenant: &e.actor_tenant,
            action: &e.action,
            target: &e.target,
            before_state: e.before_state.as_deref(),
            after_state: e.after_state.as_deref(),
            reason: e.reason.as_deref(),
            at: audit_time(&e.at),
            prev_hash: &e.prev_hash,
            hash: &e.hash,
        }
    }
}

/// The tenant's chain as JSON lines on stdout, oldest first, a page at a time.
async fn export(store: &Store, slug: &str) -> anyhow::Result<()> {
    let directory = store.load_directory().await?;
    let tenant = tenants(&directory, Some(slug))?[0];
    let scope = TenantScope::single(tenant.id.clone());
    // Not the stdout lock: it would be held across the awaits below.
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut after_seq = None;
    loop {
        let page = store
            .audit_page(
                &scope,
                &AuditQuery {
                    tenant_id: tenant.id.clone(),
                    order: AuditOrder::OldestFirst,
                    after_seq,
                    limit: AUDIT_PAGE_MAX,
                    ..AuditQuery::default()
                },
            )
            .await?;
        for entry in &page {
            serde_json::to_writer(&mut out, &ExportLine::from(entry))?;
            out.write_all(b"\n")?;
        }
        if (page.len() as i64) < AUDIT_PAGE_MAX {
            break;
        }
        after_seq = page.last().map(|e| e.seq);
    }
    out.flush()?;
    Ok(())
}
