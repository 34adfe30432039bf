//! Reseller staff managing their catalog, as the store splits it: listings (`listings.rs`:
//! `updateListing`, `listProduct`, `unlistProduct`), contract prices (`contract_prices.rs`:
//! `setContractPrice`, `removeContractPrice`, `Customer.contractPrices`, `priceFor`) and price
//! lists (`price_lists.rs`: `priceLists`, `createPriceList`, `updatePriceList`, `setPrices`)
//! and search synonyms (`synonyms.rs`: `searchSynonyms`, `setSearchSynonyms`).
//! Another tenant's product or customer is NOT_FOUND; inside the tenant, an action the policy
//! does not allow is FORBIDDEN; bad input is BAD_USER_INPUT naming the field.

mod contract_prices;
mod listings;
mod price_lists;
mod synonyms;

use async_graphql::{Context, ErrorExtensions, ID};
use portico_policies::{Action, Kind};
use portico_store::model;

use crate::ApiError;
use crate::catalog::{self, Product};
use crate::request::{access, portal};

pub use contract_prices::{ContractPrice, ContractPriceMutations, contract_prices, price_for};
pub use listings::{ListingLifecycleMutations, ListingMutations};
pub use price_lists::{PriceList, PriceListMutations, price_lists};
pub use synonyms::{SearchSynonymMutations, SearchSynonyms, search_synonyms};

/// The portal's product that the caller may read, or NOT_FOUND.
async fn readable_product(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Product> {
    catalog::product(ctx, id).await
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
    )
    .in_support_window(access.in_support_window(&owner.id));
    let decision = access.decide(action, &facts);
    if !decision.allowed {
        return Err(ApiError::Forbidden.extend());
    }
    Ok((owner, decision.reason))
}
