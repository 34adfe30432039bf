//! A reseller's price lists: `priceLists`, `createPriceList`, `updatePriceList` and `setPrices`
//! (a product's tiered prices in one list).

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use portico_policies::Action;
use portico_store::TenantScope;
use portico_store::model;

use super::{catalog_decision, readable_product};
use crate::ApiError;
use crate::ids::{decode_id, encode_id};
use crate::request::{audit, caller, store, store_error};
use crate::types::Region;

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
}
