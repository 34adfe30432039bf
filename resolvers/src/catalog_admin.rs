//! Reseller staff managing their catalog and their customers' prices: `updateListing`,
//! `setContractPrice`, `removeContractPrice`, `Customer.contractPrices` and `priceFor`.
//! Another tenant's product or customer is NOT_FOUND; inside the tenant, an action the policy
//! does not allow is FORBIDDEN; bad input is BAD_USER_INPUT naming the field.

use async_graphql::{
    ComplexObject, Context, ErrorExtensions, ID, InputObject, Object, SimpleObject,
};
use chrono::{DateTime, Utc};
use portico_policies::{Action, Kind, Relation};
use portico_store::model::{self, Money as ModelMoney};
use portico_store::{CatalogVisibility, ListingChanges, TenantScope};

use crate::ApiError;
use crate::authz::Access;
use crate::catalog::{self, Money, Price, Product, ProductStatus};
use crate::ids::{decode_id, encode_id};
use crate::request::{access, audit, caller, portal, store, store_error, visible_customer};
use crate::tenancy::Customer;
use crate::types::Region;

fn bad(field: &str, message: impl Into<String>) -> async_graphql::Error {
    ApiError::BadUserInput {
        field: field.to_owned(),
        message: message.into(),
    }
    .extend()
}

#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductVisibility {
    /// Every customer of the region.
    #[graphql(name = "ALL")]
    All,
    /// Only the customers of the listing's assortment.
    #[graphql(name = "RESTRICTED")]
    Restricted,
}

#[derive(InputObject)]
pub struct UpdateListingInput {
    pub id: ID,
    /// The version read with the listing; a newer one means someone else changed it.
    pub expected_version: i64,
    pub name: Option<String>,
    pub description: Option<String>,
    pub regions: Option<Vec<Region>>,
    pub status: Option<ProductStatus>,
    pub visibility: Option<ProductVisibility>,
    /// The assortment of a RESTRICTED listing: the customers who see it (replaces the list).
    pub customers: Option<Vec<ID>>,
}

#[derive(SimpleObject)]
pub struct UpdateListingPayload {
    pub product: Product,
}

#[derive(InputObject)]
pub struct SetContractPriceInput {
    pub customer_id: ID,
    pub product_id: ID,
    /// A decimal string, e.g. "999.00".
    pub amount: String,
    pub currency: String,
    /// Default: now.
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
}

#[derive(InputObject)]
pub struct RemoveContractPriceInput {
    pub customer_id: ID,
    pub product_id: ID,
}

#[derive(SimpleObject)]
pub struct SetContractPricePayload {
    pub customer: Customer,
}

#[derive(SimpleObject)]
pub struct RemoveContractPricePayload {
    pub customer: Customer,
}

/// A customer's own price for one product.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ContractPrice {
    pub sku: String,
    pub name: String,
    pub amount: Money,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub listing_id: String,
}

#[ComplexObject]
impl ContractPrice {
    async fn product_id(&self) -> ID {
        encode_id("Product", &self.listing_id)
    }
}

/// The portal's product that the caller may read, or NOT_FOUND.
async fn readable_product(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Product> {
    catalog::product(ctx, id).await
}

/// The caller's customer for a price change: NOT_FOUND unless visible, FORBIDDEN unless `action`.
fn customer_for(
    access: &Access,
    id: &ID,
    action: Action,
) -> async_graphql::Result<(model::Tenant, String)> {
    let tenant = visible_customer(access, id)?;
    let decision = access.decide(action, &access.facts(Kind::Customer, &tenant));
    if !decision.allowed {
        return Err(ApiError::Forbidden.extend());
    }
    Ok((tenant, decision.reason))
}

#[derive(Default)]
pub struct CatalogMutations;

#[Object]
impl CatalogMutations {
    /// Changes a listing's overrides, regions, status or visibility (reseller admins and
    /// pricing managers, their own catalog).
    async fn update_listing(
        &self,
        ctx: &Context<'_>,
        input: UpdateListingInput,
    ) -> async_graphql::Result<UpdateListingPayload> {
        let caller = caller(ctx)?;
        let access = access(ctx)?;
        let product = readable_product(ctx, &input.id).await?;
        let decision = access.decide(Action::Update, product.facts());
        if !decision.allowed {
            return Err(ApiError::Forbidden.extend());
        }
        let owner = &portal(ctx)?.tenant;
        // The rows this write may touch: the owner's, and its assortment rows about the
        // customers the caller may act for — the old assortment as well as the new one.
        let scope = catalog_write_scope(access, &owner.id);
        // Assortment members must be those customers; anything else is NOT_FOUND.
        let customers = match &input.customers {
            None => None,
            Some(ids) => {
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let tenant = decode_id("Customer", id)
                        .filter(|raw| raw != &owner.id && scope.contains(raw))
                        .ok_or_else(|| ApiError::NotFound("customer").extend())?;
                    out.push(tenant);
                }
                Some(out)
            }
        };
        let changes = ListingChanges {
            name: input.name,
            description: input.description,
            regions: input
                .regions
                .map(|r| r.into_iter().map(model::Region::from).collect()),
            status: input.status.map(model::ListingStatus::from),
            visibility: input.visibility.map(|v| match v {
                ProductVisibility::All => model::Visibility::All,
                ProductVisibility::Restricted => model::Visibility::Restricted,
            }),
            customers,
        };
        let listing = store(ctx)?
            .update_listing(
                &scope,
                &owner.id,
                product.listing_id(),
                input.expected_version,
                &changes,
                &audit(caller, &decision.reason),
            )
            .await
            .map_err(store_error)?;
        let product = readable_product(ctx, &encode_id("Product", &listing.id)).await?;
        Ok(UpdateListingPayload { product })
    }

    /// Sets a customer's contract price for a product (reseller admins and pricing managers).
    async fn set_contract_price(
        &self,
        ctx: &Context<'_>,
        input: SetContractPriceInput,
    ) -> async_graphql::Result<SetContractPricePayload> {
        let caller = caller(ctx)?;
        let access = access(ctx)?;
        let (customer, reason) = customer_for(access, &input.customer_id, Action::Price)?;
        let product = readable_product(ctx, &input.product_id).await?;
        let amount = ModelMoney::parse(&input.amount, &input.currency).map_err(|message| {
            let field = if message.starts_with("currency") {
                "currency"
            } else {
                "amount"
            };
            bad(
                field,
                message
                    .split_once(": ")
                    .map_or(message.as_str(), |(_, m)| m),
            )
        })?;
        let owner = &caller.tenant;
        store(ctx)?
            .set_contract_price(
                &TenantScope::of([owner.id.clone(), customer.id.clone()]),
                &owner.id,
                &customer.id,
                product.listing_id(),
                &amount,
                input.valid_from.unwrap_or_else(Utc::now),
                input.valid_to,
                &audit(caller, &reason),
            )
            .await
            .map_err(store_error)?;
        let customer =
            Customer::visible(access, &customer).ok_or_else(|| ApiError::Internal.extend())?;
        Ok(SetContractPricePayload { customer })
    }

    /// Ends a customer's contract price for a product now (history is kept).
    async fn remove_contract_price(
        &self,
        ctx: &Context<'_>,
        input: RemoveContractPriceInput,
    ) -> async_graphql::Result<RemoveContractPricePayload> {
        let caller = caller(ctx)?;
        let access = access(ctx)?;
        let (customer, reason) = customer_for(access, &input.customer_id, Action::Price)?;
        let product = readable_product(ctx, &input.product_id).await?;
        let owner = &caller.tenant;
        store(ctx)?
            .end_contract_price(
                &TenantScope::of([owner.id.clone(), customer.id.clone()]),
                &owner.id,
                &customer.id,
                product.listing_id(),
                &audit(caller, &reason),
            )
            .await
            .map_err(store_error)?;
        let customer =
            Customer::visible(access, &customer).ok_or_else(|| ApiError::Internal.extend())?;
        Ok(RemoveContractPricePayload { customer })
    }
}

/// The scope of a write to `owner`'s catalog: the owner, and those of its own customers the
/// caller may read (assortments and contract prices are rows about them; on PostgreSQL a row
/// about a customer outside the scope is invisible, so a write could not replace it). Never a
/// tenant outside the owner's tree, whatever the caller may read elsewhere.
pub(crate) fn catalog_write_scope(access: &Access, owner: &str) -> TenantScope {
    let customers = access.scope(Kind::Customer);
    TenantScope::of(
        std::iter::once(owner.to_owned()).chain(
            customers
                .tenants()
                .filter(|id| {
                    access
                        .directory()
                        .tenant(id)
                        .is_some_and(|t| t.parent_id.as_deref() == Some(owner))
                })
                .cloned(),
        ),
    )
}

/// `Customer.contractPrices`, once the field rule allowed it. The reseller's staff see their
/// whole record (commercial data is the reseller's own business, DESIGN section 4); anyone
/// else — the customer's own admins — only the contract prices of products the catalog shows
/// them: the policy's catalog predicates, as on `products` and in search.
pub async fn contract_prices(
    ctx: &Context<'_>,
    customer: &model::Tenant,
) -> async_graphql::Result<Vec<ContractPrice>> {
    let Some(owner) = customer.parent_id.clone() else {
        return Ok(Vec::new());
    };
    let access = access(ctx)?;
    let visibility = if access.relation(&owner) == Relation::Same {
        None
    } else {
        let predicates = access
            .directory()
            .tenant(&owner)
            .and_then(|t| access.catalog_predicates(t));
        // Nothing of the catalog: no product to name.
        let Some(p) = predicates else {
            return Ok(Vec::new());
        };
        Some(CatalogVisibility {
            active_only: p.active_only,
            sold_in: p.sold_in,
            visible_to: p.visible_to,
        })
    };
    let scope = TenantScope::of([owner.clone(), customer.id.clone()]);
    let rows = store(ctx)?
        .contract_prices_of(&scope, &owner, &customer.id, visibility.as_ref())
        .await
        .map_err(store_error)?;
    Ok(rows
        .into_iter()
        .map(|r| ContractPrice {
            sku: r.sku,
            name: r.name,
            amount: Money::from(&r.amount),
            valid_from: r.valid_from,
            valid_to: r.valid_to,
            listing_id: r.listing_id,
        })
        .collect())
}

/// `priceFor`: a customer's net price for a product, for the staff who may see that customer's
/// prices (sales reps: customers in their regions).
pub async fn price_for(
    ctx: &Context<'_>,
    customer_id: &ID,
    product_id: &ID,
    quantity: i32,
) -> async_graphql::Result<Option<Price>> {
    if quantity < 1 {
        return Err(bad("quantity", "must be at least 1"));
    }
    let access = access(ctx)?;
    let tenant = visible_customer(access, customer_id)?;
    if !access.field_allowed(&access.facts(Kind::Customer, &tenant), "contractPrices") {
        return Err(ApiError::Forbidden.extend());
    }
    let product = readable_product(ctx, product_id).await?;
    let (Some(owner), Some(region)) = (tenant.parent_id.clone(), tenant.region) else {
        return Ok(None);
    };
    let scope = TenantScope::of([owner.clone(), tenant.id.clone()]);
    let mut prices = store(ctx)?
        .pricing_for(
            &scope,
            &owner,
            &[product.listing_id().to_owned()],
            Some(&tenant.id),
            Some(region),
        )
        .await
        .map_err(store_error)?;
    let prices = prices.remove(product.listing_id()).unwrap_or_default();
    Ok(
        portico_store::pricing::net_price(&prices, region, i64::from(quantity), Utc::now())
            .map(Price::from),
    )
}

/// A reseller's price list.
#[derive(SimpleObject)]
pub struct PriceList {
    pub id: ID,
    pub name: String,
    pub region: Region,
    pub currency: String,
    pub priority: i64,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
    pub version: i64,
}

impl From<portico_store::PriceList> for PriceList {
    fn from(p: portico_store::PriceList) -> Self {
        PriceList {
            id: encode_id("PriceList", &p.info.id),
            name: p.info.name,
            region: Region::from(p.info.region),
            currency: p.info.currency,
            priority: p.info.priority,
            valid_from: p.info.valid_from,
            valid_to: p.info.valid_to,
            version: p.version,
        }
    }
}

#[derive(InputObject)]
pub struct CreatePriceListInput {
    pub name: String,
    pub region: Region,
    pub currency: String,
    /// Higher wins among lists valid at the same time. Default 0.
    pub priority: Option<i64>,
    /// Default: now.
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
}

#[derive(InputObject)]
pub struct UpdatePriceListInput {
    pub id: ID,
    pub expected_version: i64,
    pub name: Option<String>,
    pub region: Option<Region>,
    pub currency: Option<String>,
    pub priority: Option<i64>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
}

#[derive(InputObject)]
pub struct TierInput {
    pub min_quantity: i64,
    /// A decimal string in the list's currency, e.g. "1100.00".
    pub amount: String,
}

#[derive(InputObject)]
pub struct SetPricesInput {
    pub price_list_id: ID,
    pub expected_version: i64,
    pub product_id: ID,
    /// When given, must be the list's currency.
    pub currency: Option<String>,
    /// The product's complete tiers in this list; empty removes its prices from the list.
    pub tiers: Vec<TierInput>,
}

#[derive(SimpleObject)]
pub struct PriceListPayload {
    pub price_list: PriceList,
}

#[derive(InputObject)]
pub struct ListProductInput {
    /// The master product's SKU, e.g. ACM-DRL-18.
    pub master_sku: String,
    pub regions: Vec<Region>,
    /// Default: DRAFT.
    pub status: Option<ProductStatus>,
}

#[derive(InputObject)]
pub struct UnlistProductInput {
    pub id: ID,
    pub expected_version: i64,
}

#[derive(SimpleObject)]
pub struct ListProductPayload {
    pub product: Product,
}

#[derive(SimpleObject)]
pub struct UnlistProductPayload {
    /// The id of the product taken out of the catalog.
    pub removed_id: ID,
}

/// The portal's catalog as a whole, for decisions about it (price lists, new listings).
fn catalog_decision(
    ctx: &Context<'_>,
    action: Action,
) -> async_graphql::Result<(model::Tenant, String)> {
    let access = access(ctx)?;
    let owner = portal(ctx)?.tenant.clone();
    let facts = portico_policies::Resource::new(
        Kind::Product,
        access.relation(&owner.id),
        None,
        portico_policies::Visibility::All,
        [],
        crate::authz::tenant_kind(owner.kind),
    );
    let decision = access.decide(action, &facts);
    if !decision.allowed {
        return Err(ApiError::Forbidden.extend());
    }
    Ok((owner, decision.reason))
}

fn price_list_id(id: &ID) -> async_graphql::Result<String> {
    decode_id("PriceList", id).ok_or_else(|| ApiError::NotFound("price list").extend())
}

/// The portal's price lists, for the staff who manage them; empty for everyone else.
pub async fn price_lists(ctx: &Context<'_>) -> async_graphql::Result<Vec<PriceList>> {
    let Ok((owner, _)) = catalog_decision(ctx, Action::Price) else {
        return Ok(Vec::new());
    };
    let lists = store(ctx)?
        .price_lists(&TenantScope::single(owner.id.clone()), &owner.id)
        .await
        .map_err(store_error)?;
    Ok(lists.into_iter().map(PriceList::from).collect())
}

#[derive(Default)]
pub struct PriceListMutations;

#[Object]
impl PriceListMutations {
    /// Creates a price list (reseller admins and pricing managers).
    async fn create_price_list(
        &self,
        ctx: &Context<'_>,
        input: CreatePriceListInput,
    ) -> async_graphql::Result<PriceListPayload> {
        let caller = caller(ctx)?;
        let (owner, reason) = catalog_decision(ctx, Action::Price)?;
        let new = portico_store::PriceListChanges {
            name: Some(input.name),
            region: Some(model::Region::from(input.region)),
            currency: Some(input.currency),
            priority: input.priority,
            valid_from: input.valid_from,
            valid_to: Some(input.valid_to),
        };
        let list = store(ctx)?
            .create_price_list(
                &TenantScope::single(owner.id.clone()),
                &owner.id,
                &new,
                &audit(caller, &reason),
            )
            .await
            .map_err(store_error)?;
        Ok(PriceListPayload {
            price_list: list.into(),
        })
    }

    /// Changes a price list if nobody changed it since `expectedVersion`.
    async fn update_price_list(
        &self,
        ctx: &Context<'_>,
        input: UpdatePriceListInput,
    ) -> async_graphql::Result<PriceListPayload> {
        let caller = caller(ctx)?;
        let (owner, reason) = catalog_decision(ctx, Action::Price)?;
        let id = price_list_id(&input.id)?;
        let changes = portico_store::PriceListChanges {
            name: input.name,
            region: input.region.map(model::Region::from),
            currency: input.currency,
            priority: input.priority,
            valid_from: input.valid_from,
            valid_to: input.valid_to.map(Some),
        };
        let list = store(ctx)?
            .update_price_list(
                &TenantScope::single(owner.id.clone()),
                &owner.id,
                &id,
                input.expected_version,
                &changes,
                &audit(caller, &reason),
            )
            .await
            .map_err(store_error)?;
        Ok(PriceListPayload {
            price_list: list.into(),
        })
    }

    /// Sets a product's tiered prices in a price list.
    async fn set_prices(
        &self,
        ctx: &Context<'_>,
        input: SetPricesInput,
    ) -> async_graphql::Result<PriceListPayload> {
        let caller = caller(ctx)?;
        let (owner, reason) = catalog_decision(ctx, Action::Price)?;
        let id = price_list_id(&input.price_list_id)?;
        let product = readable_product(ctx, &input.product_id).await?;
        let scope = TenantScope::single(owner.id.clone());
        let tiers: Vec<(i64, String)> = input
            .tiers
            .into_iter()
            .map(|t| (t.min_quantity, t.amount))
            .collect();
        let list = store(ctx)?
            .set_prices(
                &scope,
                &owner.id,
                &id,
                input.expected_version,
                product.listing_id(),
                input.currency.as_deref(),
                &tiers,
                &audit(caller, &reason),
            )
            .await
            .map_err(store_error)?;
        Ok(PriceListPayload {
            price_list: list.into(),
        })
    }

    /// Lists a master product in the portal's catalog (reseller admins and pricing managers).
    async fn list_product(
        &self,
        ctx: &Context<'_>,
        input: ListProductInput,
    ) -> async_graphql::Result<ListProductPayload> {
        let caller = caller(ctx)?;
        let (owner, reason) = catalog_decision(ctx, Action::Update)?;
        let regions: Vec<model::Region> =
            input.regions.into_iter().map(model::Region::from).collect();
        let id = store(ctx)?
            .list_master_product(
                &TenantScope::single(owner.id.clone()),
                &owner.id,
                input.master_sku.trim(),
                &regions,
                input
                    .status
                    .map_or(model::ListingStatus::Draft, model::ListingStatus::from),
                &audit(caller, &reason),
            )
            .await
            .map_err(store_error)?;
        let product = readable_product(ctx, &encode_id("Product", &id)).await?;
        Ok(ListProductPayload { product })
    }

    /// Takes a product out of the portal's catalog.
    async fn unlist_product(
        &self,
        ctx: &Context<'_>,
        input: UnlistProductInput,
    ) -> async_graphql::Result<UnlistProductPayload> {
        let caller = caller(ctx)?;
        let access = access(ctx)?;
        let product = readable_product(ctx, &input.id).await?;
        let decision = access.decide(Action::Update, product.facts());
        if !decision.allowed {
            return Err(ApiError::Forbidden.extend());
        }
        let owner = caller.tenant.id.clone();
        store(ctx)?
            .unlist(
                &TenantScope::single(owner.clone()),
                &owner,
                product.listing_id(),
                input.expected_version,
                &audit(caller, &decision.reason),
            )
            .await
            .map_err(store_error)?;
        Ok(UnlistProductPayload {
            removed_id: input.id,
        })
    }
}
