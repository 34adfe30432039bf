//! Listings of the portal's catalog: `updateListing` (overrides, regions, status, visibility and
//! assortment), `listProduct` (a master product into the catalog) and `unlistProduct`.

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object, SimpleObject};
use portico_policies::{Action, Kind};
use portico_store::model;
use portico_store::{ListingChanges, TenantScope};

use super::{catalog_decision, readable_product};
use crate::ApiError;
use crate::authz::Access;
use crate::catalog::{Product, ProductStatus};
use crate::ids::{decode_id, encode_id};
use crate::request::{access, audit, caller, portal, store, store_error};
use crate::types::Region;

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

/// `updateListing`. Apart from `ListingLifecycleMutations` only to keep the mutations in the
/// order of the committed SDL (async-graphql lists merged fields as declared).
#[derive(Default)]
pub struct ListingMutations;

#[Object]
impl ListingMutations {
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

/// `listProduct` and `unlistProduct`.
#[derive(Default)]
pub struct ListingLifecycleMutations;

#[Object]
impl ListingLifecycleMutations {
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
