//! Net prices: plain functions over already-loaded rows, so every rule is unit-tested without a
//! database. A valid contract price beats any price list; otherwise the best price list valid
//! now for the customer's region (highest priority, then the newest) with a tier for the
//! listing, and in it the largest tier whose minimum quantity the order reaches.

use chrono::{DateTime, Utc};

use crate::model::{Money, Region};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceListInfo {
    pub id: String,
    pub name: String,
    pub region: Region,
    pub currency: String,
    pub priority: i64,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
}

impl PriceListInfo {
    pub fn valid_at(&self, at: DateTime<Utc>) -> bool {
        self.valid_from <= at && self.valid_to.is_none_or(|to| at < to)
    }
}

/// One price of a listing in a price list, from a minimum quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub list: PriceListInfo,
    pub min_quantity: i64,
    pub amount_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractPrice {
    pub amount: Money,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
}

impl ContractPrice {
    pub fn valid_at(&self, at: DateTime<Utc>) -> bool {
        self.valid_from <= at && self.valid_to.is_none_or(|to| at < to)
    }
}

/// Everything priced for one listing: its tiers in every list, and the caller's contract price.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingPrices {
    pub tiers: Vec<Tier>,
    pub contract: Option<ContractPrice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    Contract,
    PriceList,
}

/// A resolved price and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetPrice {
    pub amount: Money,
    pub source: PriceSource,
    pub price_list: Option<String>,
    pub min_quantity: i64,
}

/// The list price: the best valid list's price at quantity 1 (contracts left out).
pub fn list_price(prices: &ListingPrices, region: Region, at: DateTime<Utc>) -> Option<NetPrice> {
    from_lists(prices, region, 1, at)
}

/// The caller's net price for `quantity` (at least 1).
pub fn net_price(
    prices: &ListingPrices,
    region: Region,
    quantity: i64,
    at: DateTime<Utc>,
) -> Option<NetPrice> {
    if let Some(contract) = prices.contract.as_ref().filter(|c| c.valid_at(at)) {
        return Some(NetPrice {
            amount: contract.amount.clone(),
            source: PriceSource::Contract,
            price_list: None,
            min_quantity: 1,
        });
    }
    from_lists(prices, region, quantity.max(1), at)
}

fn from_lists(
    prices: &ListingPrices,
    region: Region,
    quantity: i64,
    at: DateTime<Utc>,
) -> Option<NetPrice> {
    let eligible =
        |t: &&Tier| t.list.region == region && t.list.valid_at(at) && t.min_quantity <= quantity;
    // The best list: highest priority, then the newest, then the name (for a stable answer).
    let best = prices
        .tiers
        .iter()
        .filter(eligible)
        .map(|t| &t.list)
        .max_by(|a, b| {
            (a.priority, a.valid_from, std::cmp::Reverse(&a.name)).cmp(&(
                b.priority,
                b.valid_from,
                std::cmp::Reverse(&b.name),
            ))
        })?;
    let tier = prices
        .tiers
        .iter()
        .filter(eligible)
        .filter(|t| t.list.id == best.id)
        .max_by_key(|t| t.min_quantity)?;
    Some(NetPrice {
        amount: Money::new(tier.amount_minor, &best.currency),
        source: PriceSource::PriceList,
        price_list: Some(best.name.clone()),
        min_quantity: tier.min_quantity,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    fn list(
        name: &str,
        region: Region,
        currency: &str,
        priority: i64,
        from: DateTime<Utc>,
        to: Option<DateTime<Utc>>,
    ) -> PriceListInfo {
        PriceListInfo {
            id: name.to_owned(),
            name: name.to_owned(),
            region,
            currency: currency.to_owned(),
            priority,
            valid_from: from,
            valid_to: to,
        }
    }

    fn tier(list: &PriceListInfo, min: i64, amount: i64) -> Tier {
        Tier {
            list: list.clone(),
            min_quantity: min,
            amount_minor: amount,
        }
    }

    fn turbine() -> ListingPrices {
        let eu = list("EU 2026", Region::Eu, "EUR", 10, at(2026, 1, 1), None);
        let na = list("NA 2026", Region::Na, "USD", 10, at(2026, 1, 1), None);
        ListingPrices {
            tiers: vec![
                tier(&eu, 1, 120_000),
                tier(&eu, 10, 110_000),
                tier(&na, 1, 135_000),
            ],
            contract: None,
        }
    }

    const NOW: fn() -> DateTime<Utc> = || at(2026, 11, 23);

    #[test]
    fn a_valid_contract_beats_the_list_at_any_quantity() {
        let mut p = turbine();
        p.contract = Some(ContractPrice {
            amount: Money::new(99_900, "EUR"),
            valid_from: at(2026, 1, 1),
            valid_to: None,
        });
        for q in [1, 10, 100] {
            let n = net_price(&p, Region::Eu, q, NOW()).unwrap();
            assert_eq!(
                (n.amount.amount_minor, n.source),
                (99_900, PriceSource::Contract)
            );
            assert_eq!(n.price_list, None);
        }
        // The list price stays the list's.
        assert_eq!(
            list_price(&p, Region::Eu, NOW())
                .unwrap()
                .amount
                .amount_minor,
            120_000
        );
    }

    #[test]
    fn an_expired_or_future_contract_does_not_count() {
        let mut p = turbine();
        for (from, to) in [
            (at(2025, 1, 1), Some(at(2026, 1, 1))),
            (at(2027, 1, 1), None),
        ] {
            p.contract = Some(ContractPrice {
                amount: Money::new(1, "EUR"),
                valid_from: from,
                valid_to: to,
            });
            let n = net_price(&p, Region::Eu, 1, NOW()).unwrap();
            assert_eq!(
                (n.amount.amount_minor, n.source),
                (120_000, PriceSource::PriceList)
            );
        }
    }

    #[test]
    fn tiers_apply_from_their_minimum_quantity() {
        let p = turbine();
        let one = net_price(&p, Region::Eu, 9, NOW()).unwrap();
        assert_eq!((one.amount.amount_minor, one.min_quantity), (120_000, 1));
        let ten = net_price(&p, Region::Eu, 10, NOW()).unwrap();
        assert_eq!((ten.amount.amount_minor, ten.min_quantity), (110_000, 10));
        assert_eq!(ten.price_list.as_deref(), Some("EU 2026"));
        // Zero or negative quantities count as one.
        assert_eq!(
            net_price(&p, Region::Eu, 0, NOW())
                .unwrap()
                .amount
                .amount_minor,
            120_000
        );
    }

    #[test]
    fn the_region_picks_the_list_and_its_currency() {
        let na = net_price(&turbine(), Region::Na, 1, NOW()).unwrap();
        assert_eq!(na.amount, Money::new(135_000, "USD"));
        assert_eq!(
            net_price(&turbine(), Region::Apac, 1, NOW()),
            None,
            "no APAC list: no price"
        );
    }

    #[test]
    fn an_ended_promotion_never_wins_whatever_its_priority() {
        let mut p = turbine();
        let promo = list(
            "Spring Promo",
            Region::Eu,
            "EUR",
            20,
            at(2026, 3, 1),
            Some(at(2026, 5, 1)),
        );
        p.tiers.push(tier(&promo, 1, 80_000));
        assert_eq!(
            net_price(&p, Region::Eu, 1, NOW())
                .unwrap()
                .amount
                .amount_minor,
            120_000
        );
        // While it ran, it won.
        let during = net_price(&p, Region::Eu, 1, at(2026, 4, 1)).unwrap();
        assert_eq!(
            (during.amount.amount_minor, during.price_list.as_deref()),
            (80_000, Some("Spring Promo"))
        );
        // Its tier for 1 does not apply from 10 if it has none there: the best list is chosen
        // among those with a tier the quantity reaches.
        let ten = net_price(&p, Region::Eu, 10, at(2026, 4, 1)).unwrap();
        assert_eq!(ten.price_list.as_deref(), Some("Spring Promo"));
    }

    #[test]
    fn no_tier_means_no_price() {
        assert_eq!(
            net_price(&ListingPrices::default(), Region::Eu, 1, NOW()),
            None
        );
        assert_eq!(
            list_price(&ListingPrices::default(), Region::Eu, NOW()),
            None
        );
    }
}
