//! The catalog: `products`, `product(id)` and `Product` with its prices. A page costs the same
//! statements whatever its size: listings and regions in one transaction, the prices of the
//! whole page through one batched loader.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{Context, Enum, ErrorExtensions, ID, InputObject, Object, SimpleObject};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use portico_policies::{Action, Kind, Relation, Resource};
use portico_store::model::{self, ListingStatus, Money as ModelMoney, TenantKind};
use portico_store::pricing::{self, ListingPrices, NetPrice};
use portico_store::{CatalogQuery, CatalogRow, PriceQuery, Store, TenantScope};

use crate::authz::Access;
use crate::ids::{decode_id, encode_id};
use crate::pagination::{PageInfo, bad_cursor, page_size};
use crate::request::{access, field_path, portal, store, store_error};
use crate::types::Region;
use crate::{ApiError, Caller};

/// An amount of money: a decimal string (never a float) and its currency.
#[derive(SimpleObject, Debug, Clone)]
pub struct Money {
    pub amount: String,
    pub currency: String,
}

impl From<&ModelMoney> for Money {
    fn from(m: &ModelMoney) -> Self {
        Money {
            amount: m.decimal(),
            currency: m.currency.clone(),
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    /// The customer's own contract price.
    #[graphql(name = "CONTRACT")]
    Contract,
    /// A price list of the reseller.
    #[graphql(name = "PRICE_LIST")]
    PriceList,
}

/// The viewer's own net price.
#[derive(SimpleObject, Debug, Clone)]
pub struct Price {
    pub amount: Money,
    pub source: PriceSource,
    pub price_list: Option<String>,
    pub min_quantity: i32,
}

impl From<NetPrice> for Price {
    fn from(n: NetPrice) -> Self {
        Price {
            amount: Money::from(&n.amount),
            source: match n.source {
                pricing::PriceSource::Contract => PriceSource::Contract,
                pricing::PriceSource::PriceList => PriceSource::PriceList,
            },
            price_list: n.price_list,
            min_quantity: i32::try_from(n.min_quantity).unwrap_or(i32::MAX),
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductStatus {
    #[graphql(name = "DRAFT")]
    Draft,
    #[graphql(name = "ACTIVE")]
    Active,
    #[graphql(name = "INACTIVE")]
    Inactive,
}

impl From<ProductStatus> for ListingStatus {
    fn from(s: ProductStatus) -> Self {
        match s {
            ProductStatus::Draft => ListingStatus::Draft,
            ProductStatus::Active => ListingStatus::Active,
            ProductStatus::Inactive => ListingStatus::Inactive,
        }
    }
}

#[derive(InputObject, Default)]
pub struct ProductFilter {
    /// A category path; products in it and below it.
    pub category: Option<String>,
    pub brand: Option<String>,
    pub region: Option<Region>,
    pub status: Option<ProductStatus>,
}

/// The per-request price loader, caching what it loaded for the rest of the request.
pub type Prices = DataLoader<PriceLoader, HashMapCache>;

/// The prices of a page's listings, loaded in one batch per request.
pub struct PriceLoader {
    store: Store,
    scope: TenantScope,
    owner: String,
    customer: Option<String>,
    /// A customer's prices are quoted in its own region only: the other regions' lists are
    /// never read.
    region: Option<model::Region>,
}

impl Loader<String> for PriceLoader {
    /// Shared: every price field of a product reads the same value.
    type Value = Arc<ListingPrices>;
    type Error = Arc<portico_store::StoreError>;

    async fn load(
        &self,
        keys: &[String],
    ) -> Result<HashMap<String, Arc<ListingPrices>>, Self::Error> {
        let mut found = self
            .store
            .pricing_for(
                &self.scope,
                &self.owner,
                keys,
                self.customer.as_deref(),
                self.region,
            )
            .await
            .map_err(Arc::new)?;
        // A listing without prices is a found, empty entry: it has no price, not an error.
        Ok(keys
            .iter()
            .map(|k| (k.clone(), Arc::new(found.remove(k).unwrap_or_default())))
            .collect())
    }
}

impl PriceLoader {
    /// The same prices, for a page query (or search's rows by id) that carries them in its own
    /// statement.
    pub(crate) fn page_query(&self) -> PriceQuery {
        PriceQuery {
            customer: self.customer.clone(),
            region: self.region,
        }
    }
}

/// The per-request price loader: the portal's catalog, the caller's contract prices.
pub fn price_loader(store: &Store, portal: &model::Tenant, caller: Option<&Caller>) -> Prices {
    let customer_tenant = caller
        .map(|c| &c.tenant)
        .filter(|t| t.kind == TenantKind::Customer);
    let customer = customer_tenant.map(|t| t.id.clone());
    let scope = TenantScope::of(std::iter::once(portal.id.clone()).chain(customer.clone()));
    DataLoader::with_cache(
        PriceLoader {
            store: store.clone(),
            scope,
            owner: portal.id.clone(),
            customer,
            region: customer_tenant.and_then(|t| t.region),
        },
        tokio::spawn,
        HashMapCache::default(),
    )
    // Pages load their prices in one explicit `load_many` (see `products`), so there is
    // nothing to wait for: the default 1 ms batching delay would only add latency.
    .delay(std::time::Duration::ZERO)
}

/// Whether the selection of a `Product` asks for any field that needs its prices.
pub(crate) fn shows_prices(product: async_graphql::Lookahead<'_>) -> bool {
    ["price", "listPrice", "margin"]
        .iter()
        .any(|f| product.field(f).exists())
}

/// A product as the caller sees it: the reseller's listing with the master product's values
/// filling what it does not override.
pub struct Product {
    id: ID,
    row: CatalogRow,
    facts: Resource,
    fields: Arc<BTreeSet<String>>,
}

impl Product {
    /// The product if the caller may read it.
    pub fn visible(access: &Access, row: CatalogRow) -> Option<Product> {
        let facts = access.product_facts(&row);
        if !access.allows(Action::Read, &facts) {
            return None;
        }
        let fields = access.fields(&facts);
        Some(Product {
            id: encode_id("Product", &row.listing.id),
            row,
            facts,
            fields,
        })
    }

    pub fn facts(&self) -> &Resource {
        &self.facts
    }

    pub fn listing_id(&self) -> &str {
        &self.row.listing.id
    }

    /// The name the viewer is shown (overrides applied), for completions.
    pub fn listing_name(&self) -> &str {
        &self.row.listing.name
    }

    fn readable(&self, ctx: &Context<'_>, field: &str) -> async_graphql::Result<bool> {
        if self.fields.contains(field) {
            return Ok(true);
        }
        access(ctx)?.mask(field_path(ctx));
        Ok(false)
    }

    async fn prices(&self, ctx: &Context<'_>) -> async_graphql::Result<Arc<ListingPrices>> {
        let loader = ctx
            .data::<Prices>()
            .map_err(|_| ApiError::Internal.extend())?;
        loader
            .load_one(self.row.listing.id.clone())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "prices unreadable");
                ApiError::Internal.extend()
            })
            .map(Option::unwrap_or_default)
    }

    /// The region prices are quoted for: the customer's own, or for staff the first of the
    /// listing's regions they cover.
    fn price_region(&self, access: &Access) -> Option<model::Region> {
        if let Some(region) = access.actor_tenant().and_then(|t| t.region) {
            return Some(region);
        }
        let mine = access.actor().regions();
        model::Region::ALL.iter().copied().find(|r| {
            self.row.listing.regions.contains(r) && mine.contains(&crate::authz::region(*r))
        })
    }

    async fn list_price_value(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<ModelMoney>> {
        let access = access(ctx)?;
        let Some(region) = self.price_region(access) else {
            return Ok(None);
        };
        let prices = self.prices(ctx).await?;
        Ok(pricing::list_price(&prices, region, Utc::now()).map(|p| p.amount))
    }
}

#[Object]
impl Product {
    pub async fn id(&self) -> &ID {
        &self.id
    }

    async fn sku(&self) -> &str {
        &self.row.listing.sku
    }

    async fn name(&self) -> &str {
        &self.row.listing.name
    }

    async fn description(&self) -> Option<&str> {
        self.row.listing.description.as_deref()
    }

    async fn brand(&self) -> Option<&str> {
        self.row.listing.brand.as_deref()
    }

    /// The category path, e.g. `Workshop/Compressors`.
    async fn category(&self) -> Option<&str> {
        self.row.listing.category.as_deref()
    }

    async fn regions(&self) -> Vec<Region> {
        self.row
            .listing
            .regions
            .iter()
            .copied()
            .map(Region::from)
            .collect()
    }

    /// DRAFT, ACTIVE or INACTIVE (customers only ever see ACTIVE ones).
    async fn status(&self) -> ProductStatus {
        match self.row.listing.status {
            ListingStatus::Draft => ProductStatus::Draft,
            ListingStatus::Active => ProductStatus::Active,
            ListingStatus::Inactive => ProductStatus::Inactive,
        }
    }

    /// The listing's version, for `updateListing(expectedVersion:)`.
    async fn version(&self) -> i64 {
        self.row.listing.version
    }

    /// The viewer's own net price for `quantity`: a valid contract price, else the best valid
    /// price list of the viewer's region, tiered. `null` when there is none.
    #[graphql(complexity = "crate::limits::cost::price(child_complexity)")]
    async fn price(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 1)] quantity: i32,
    ) -> async_graphql::Result<Option<Price>> {
        if !self.readable(ctx, "price")? {
            return Ok(None);
        }
        if quantity < 1 {
            return Err(ApiError::BadUserInput {
                field: "quantity".into(),
                message: "must be at least 1".into(),
            }
            .extend());
        }
        let access = access(ctx)?;
        // A net price is a customer's; staff quote through a customer.
        if self.facts.relation != Relation::OwnReseller {
            return Ok(None);
        }
        let Some(region) = self.price_region(access) else {
            return Ok(None);
        };
        let prices = self.prices(ctx).await?;
        Ok(pricing::net_price(&prices, region, i64::from(quantity), Utc::now()).map(Price::from))
    }

    /// The list price (quantity 1, no contract) in the viewer's region.
    #[graphql(complexity = "crate::limits::cost::price(child_complexity)")]
    async fn list_price(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Money>> {
        if !self.readable(ctx, "listPrice")? {
            return Ok(None);
        }
        Ok(self.list_price_value(ctx).await?.as_ref().map(Money::from))
    }

    /// What the reseller pays.
    async fn cost_price(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Money>> {
        if !self.readable(ctx, "costPrice")? {
            return Ok(None);
        }
        Ok(self.row.listing.cost.as_ref().map(Money::from))
    }

    /// (list − cost) ÷ list, when both are in the same currency.
    #[graphql(complexity = "crate::limits::cost::price(child_complexity)")]
    async fn margin(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<f64>> {
        if !self.readable(ctx, "margin")? {
            return Ok(None);
        }
        let (Some(list), Some(cost)) = (
            self.list_price_value(ctx).await?,
            self.row.listing.cost.as_ref(),
        ) else {
            return Ok(None);
        };
        if list.currency != cost.currency || list.amount_minor <= 0 {
            return Ok(None);
        }
        let margin = (list.amount_minor - cost.amount_minor) as f64 / list.amount_minor as f64;
        Ok(Some((margin * 10_000.0).round() / 10_000.0))
    }

    async fn supplier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if !self.readable(ctx, "supplier")? {
            return Ok(None);
        }
        Ok(self.row.listing.supplier.clone())
    }
}

#[derive(SimpleObject)]
pub struct ProductEdge {
    pub cursor: String,
    pub node: Product,
}

#[derive(SimpleObject)]
pub struct ProductConnection {
    pub edges: Vec<ProductEdge>,
    pub page_info: PageInfo,
}

fn cursor(row: &CatalogRow) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}\u{1f}{}", row.listing.sku, row.listing.id))
}

fn decode_cursor(c: &str) -> Option<(String, String)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    let (sku, id) = text.split_once('\u{1f}')?;
    Some((sku.to_owned(), id.to_owned()))
}

/// The tenants a catalog read touches: the portal's (the owner) and the caller's (assortments,
/// contract prices).
pub(crate) fn catalog_scope(access: &Access, owner: &str) -> TenantScope {
    TenantScope::of(
        std::iter::once(owner.to_owned()).chain(access.actor_tenant().map(|t| t.id.clone())),
    )
}

/// The catalog `products` reads: the portal's, or the reseller `tenant_id` names when the
/// caller may see that tenant (platform staff, whose catalog reads the policy allows only
/// inside a support window). NOT_FOUND for a tenant the caller may not see.
fn catalog_owner<'a>(
    ctx: &Context<'a>,
    tenant_id: Option<&ID>,
) -> async_graphql::Result<&'a model::Tenant> {
    let portal = &portal(ctx)?.tenant;
    let Some(id) = tenant_id else {
        return Ok(portal);
    };
    let access = access(ctx)?;
    decode_id("Tenant", id)
        .and_then(|raw| access.directory().tenant(&raw))
        .filter(|t| t.deleted_at.is_none())
        .filter(|t| {
            t.id == portal.id || access.allows(Action::Read, &access.facts(Kind::Tenant, t))
        })
        .ok_or_else(|| ApiError::NotFound("tenant").extend())
}

pub async fn products(
    ctx: &Context<'_>,
    tenant_id: Option<ID>,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<ProductFilter>,
) -> async_graphql::Result<ProductConnection> {
    let access = access(ctx)?;
    let owner = catalog_owner(ctx, tenant_id.as_ref())?;
    let first = page_size(first)?;
    let after = match after {
        None => None,
        Some(c) => Some(decode_cursor(&c).ok_or_else(bad_cursor)?),
    };
    let empty = || ProductConnection {
        edges: Vec::new(),
        page_info: PageInfo {
            has_next_page: false,
            has_previous_page: false,
            start_cursor: None,
            end_cursor: None,
        },
    };
    // The policy's allowed facts for the portal's catalog, as SQL predicates.
    let Some(predicates) = access.catalog_predicates(owner) else {
        return Ok(empty());
    };
    let filter = filter.unwrap_or_default();
    let has_previous_page = after.is_some();
    // A page showing prices carries them in its own statement; the price fields then find
    // them in the loader's cache, however the executor interleaves them.
    let prices = if shows_prices(ctx.look_ahead().field("edges").field("node")) {
        Some(
            ctx.data::<Prices>()
                .map_err(|_| ApiError::Internal.extend())?,
        )
    } else {
        None
    };
    let query = CatalogQuery {
        owner: owner.id.clone(),
        category: filter.category.filter(|c| !c.is_empty()),
        brand: filter.brand.filter(|b| !b.is_empty()),
        region: filter.region.map(model::Region::from),
        status: filter.status.map(ListingStatus::from),
        active_only: predicates.active_only,
        sold_in: predicates.sold_in,
        visible_to: predicates.visible_to,
        viewer_tenant: access.actor_tenant().map(|t| t.id.clone()),
        after,
        limit: first as i64 + 1,
        prices: prices.map(|loader| loader.loader().page_query()),
    };
    // The portal's catalog version, read with the portal at the start of the request; another
    // tenant's catalog reads its own.
    let version = if owner.id == portal(ctx)?.tenant.id {
        portal(ctx)?.catalog_version()
    } else {
        None
    };
    let rows = store(ctx)?
        .catalog_page(&catalog_scope(access, &owner.id), &query, version)
        .await
        .map_err(store_error)?;
    let has_next_page = rows.len() > first;
    if let Some(loader) = prices {
        loader
            .feed_many(
                rows.iter()
                    .filter_map(|r| Some((r.listing.id.clone(), r.prices.clone()?))),
            )
            .await;
    }
    let edges: Vec<ProductEdge> = rows
        .into_iter()
        .take(first)
        // Post-check: the predicates came from the same policy; this is the belt to its braces.
        .filter_map(|row| {
            let c = cursor(&row);
            Product::visible(access, row).map(|node| ProductEdge { cursor: c, node })
        })
        .collect();
    Ok(ProductConnection {
        page_info: PageInfo {
            has_next_page,
            has_previous_page,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
    })
}

/// `product(id)` / `node(id)`: NOT_FOUND unless the caller may read it on this portal.
pub async fn product(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Product> {
    let not_found = || ApiError::NotFound("product").extend();
    let raw = decode_id("Product", id).ok_or_else(not_found)?;
    let access = access(ctx)?;
    let owner = &portal(ctx)?.tenant;
    let rows = store(ctx)?
        .catalog_by_ids(
            &catalog_scope(access, &owner.id),
            &[raw],
            access.actor_tenant().map(|t| t.id.as_str()),
        )
        .await
        .map_err(store_error)?;
    rows.into_iter()
        .find(|r| r.listing.tenant_id == owner.id)
        .and_then(|row| Product::visible(access, row))
        .ok_or_else(not_found)
}

/// Facts of a listing for the policy.
pub fn product_facts(access: &Access, row: &CatalogRow) -> Resource {
    let owner = access.directory().tenant(&row.listing.tenant_id);
    let relation = access.relation(&row.listing.tenant_id);
    // The caller's own region, when the listing is sold there.
    let region = access
        .actor_tenant()
        .and_then(|t| t.region)
        .filter(|r| row.listing.regions.contains(r))
        .map(crate::authz::region);
    let visibility = match (row.listing.visibility, row.granted) {
        (model::Visibility::All, _) => portico_policies::Visibility::All,
        (model::Visibility::Restricted, true) => portico_policies::Visibility::GrantedToMe,
        (model::Visibility::Restricted, false) => portico_policies::Visibility::NotGranted,
    };
    let facts = Resource::new(
        Kind::Product,
        relation,
        region,
        visibility,
        [],
        owner.map_or(portico_policies::TenantKind::Reseller, |t| {
            crate::authz::tenant_kind(t.kind)
        }),
    )
    .in_support_window(access.in_support_window(&row.listing.tenant_id));
    if row.listing.status == ListingStatus::Active {
        facts
    } else {
        facts.not_live()
    }
}
