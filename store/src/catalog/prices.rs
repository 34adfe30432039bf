//! The catalog's prices: the price columns a page reads (tiers of every list, a customer's
//! contract prices) and the prices of some listings in one statement (`Store::pricing_for`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::db::scoped;
use crate::model::*;
use crate::pricing::{ContractPrice, ListingPrices, PriceListInfo, Tier};
use crate::{Store, StoreError, TenantScope};

/// The `$n` of a page's price parameters.
#[derive(Clone, Copy)]
pub(super) struct PriceParams {
    pub(super) customer: Option<usize>,
    pub(super) region: Option<usize>,
}

pub(super) const TIER_COLUMNS: &str = "p.listing_id, p.min_quantity, p.amount, pl.id, pl.name, pl.region, \
     pl.currency, pl.priority, pl.valid_from, pl.valid_to";
pub(super) const CONTRACT_COLUMNS: &str =
    "c.listing_id, c.amount, c.currency, c.valid_from, c.valid_to";
/// listing, amount, currency, valid from, valid to.
type ContractRow = (String, i64, String, DateTime<Utc>, Option<DateTime<Utc>>);

/// One `TIER_COLUMNS` row (a JSON array, read in field order): the listing, the tier, then
/// its price list.
#[derive(serde::Deserialize)]
struct TierRow {
    listing: String,
    min_quantity: i64,
    amount: i64,
    id: String,
    name: String,
    region: String,
    currency: String,
    priority: i64,
    valid_from: DateTime<Utc>,
    valid_to: Option<DateTime<Utc>>,
}
impl Store {
    /// when given), and the contract prices of `customer` when given. Two statements at most.
    pub async fn pricing_for(
        &self,
        scope: &TenantScope,
        owner: &str,
        listing_ids: &[String],
        customer: Option<&str>,
        region: Option<Region>,
    ) -> Result<HashMap<String, ListingPrices>, StoreError> {
        if listing_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let ids = serde_json::to_string(listing_ids).expect("strings serialize");
        // One statement: the tiers and the contract prices, each folded into one JSON text.
        let (tiers, contracts): (String, String) = scoped!(self, scope, read, |conn, d| {
            // $1 owner, $2 listing ids, $3 scope, then $4 the customer and the region, if any.
            let mut next = 3;
            let mut param = || {
                next += 1;
                next
            };
            let region_predicate = match region {
                Some(_) => format!(" AND pl.region = ${}", param()),
                None => String::new(),
            };
            let contracts = match customer {
                Some(_) => format!(
                    "(SELECT {} FROM contract_prices c WHERE c.tenant_id = $1 AND c.customer_id = ${} \
                     AND {} AND {})",
                    d.json_rows(CONTRACT_COLUMNS),
                    param(),
                    d.in_json("c.listing_id", 2),
                    d.in_json("c.tenant_id", 3)
                ),
                None => "'[]'".to_owned(),
            };
            let sql = format!(
                "SELECT (SELECT {} FROM prices p JOIN price_lists pl ON pl.id = p.price_list_id AND pl.tenant_id = p.tenant_id \
                 WHERE p.tenant_id = $1 AND pl.deleted_at IS NULL AND {} AND {}{region_predicate}), \
                 {contracts}",
                d.json_rows(TIER_COLUMNS),
                d.in_json("p.listing_id", 2),
                d.in_json("p.tenant_id", 3),
            );
            let mut query = sqlx::query_as(&sql)
                .bind(owner)
                .bind(&ids)
                .bind(scope.json());
            if let Some(region) = region {
                query = query.bind(region.as_str());
            }
            if let Some(customer) = customer {
                query = query.bind(customer);
            }
            query.fetch_one(&mut *conn).await?
        });
        prices_from_json(&tiers, &contracts)
    }
}
/// Prices by listing from the JSON of `TIER_COLUMNS` and `CONTRACT_COLUMNS` rows.
pub(super) fn prices_from_json(
    tiers: &str,
    contracts: &str,
) -> Result<HashMap<String, ListingPrices>, StoreError> {
    let unreadable = |e: serde_json::Error| StoreError::Corrupt(format!("prices: {e}"));
    let tiers: Vec<TierRow> = serde_json::from_str(tiers).map_err(unreadable)?;
    let contracts: Vec<ContractRow> = serde_json::from_str(contracts).map_err(unreadable)?;
    let mut out: HashMap<String, ListingPrices> = HashMap::new();
    for t in tiers {
        out.entry(t.listing).or_default().tiers.push(Tier {
            list: PriceListInfo {
                id: t.id,
                name: t.name,
                region: t.region.parse()?,
                currency: t.currency,
                priority: t.priority,
                valid_from: t.valid_from,
                valid_to: t.valid_to,
            },
            min_quantity: t.min_quantity,
            amount_minor: t.amount,
        });
    }
    for (listing, amount, currency, valid_from, valid_to) in contracts {
        out.entry(listing).or_default().contract = Some(ContractPrice {
            amount: Money::new(amount, &currency),
            valid_from,
            valid_to,
        });
    }
    Ok(out)
}
