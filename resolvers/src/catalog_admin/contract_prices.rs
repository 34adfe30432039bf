//! Contract prices: a customer's own prices with its reseller. `setContractPrice`,
//! `removeContractPrice`, `Customer.contractPrices` and `priceFor` (the net price a customer
//! pays, contract prices and price lists together).

use async_graphql::{
    ComplexObject, Context, ErrorExtensions, ID, InputObject, Object, SimpleObject,
};
use chrono::{DateTime, Utc};
use portico_policies::{Action, Kind, Relation};
use portico_store::model::{self, Money as ModelMoney};
use portico_store::{CatalogVisibility, TenantScope};

use super::readable_product;
use crate::ApiError;
use crate::authz::Access;
use crate::catalog::{Money, Price};
use crate::ids::encode_id;
use crate::request::{access, audit, caller, store, store_error, visible_customer};
use crate::tenancy::Customer;

fn bad(field: &str, message: impl Into<String>) -> async_graphql::Error {
    ApiError::BadUserInput {
        field: field.to_owned(),
        message: message.into(),
    }
    .extend()
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
pub struct ContractPriceMutations;

#[Object]
impl ContractPriceMutations {
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
        let amount = ModelMoney::parse(&input.amount, &input.currency)
            .map_err(|e| bad(e.field, e.message))?;
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
    // The reseller's staff, and platform staff the policy let read this field (inside a
    // support window on the customer), see the whole record; everyone else only the contract
    // prices of products the catalog shows them.
    let visibility = if matches!(
        access.relation(&owner),
        Relation::Same | Relation::PlatformScope
    ) {
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
