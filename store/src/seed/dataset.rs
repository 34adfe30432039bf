//! The fixed demo dataset: tenants, domains, identity provider, users and their roles, delegations,
//! master products, listings, price lists and prices, and the marker rows (feature flags), in
//! dependency order; and the ids of the demo tenants.

use super::builder::{NewListing, Seed, Statement, Value, at};
use super::products::master_products;
use super::{DEMO_ISSUER, demo_id};

/// The whole demo dataset as INSERT statements, in dependency order.
pub fn demo_statements() -> Vec<Statement> {
    let mut s = Seed {
        out: Vec::new(),
        epoch: at(2026, 1, 5),
    };

    s.tenant("platform", None, "PLATFORM", "Portico Platform", None);
    s.tenant(
        "northwind",
        Some("platform"),
        "RESELLER",
        "Northwind Distribution",
        None,
    );
    s.tenant(
        "contoso",
        Some("platform"),
        "RESELLER",
        "Contoso Supply",
        None,
    );
    s.tenant(
        "alpine-dealers",
        Some("northwind"),
        "CUSTOMER",
        "Alpine Dealers",
        Some("EU"),
    );
    s.tenant(
        "fjord-outfitters",
        Some("northwind"),
        "CUSTOMER",
        "Fjord Outfitters",
        Some("EU"),
    );
    s.tenant(
        "prairie-supply",
        Some("northwind"),
        "CUSTOMER",
        "Prairie Supply",
        Some("NA"),
    );
    s.tenant(
        "harbor-tools",
        Some("contoso"),
        "CUSTOMER",
        "Harbor Tools",
        Some("EU"),
    );
    for slug in ["platform", "northwind", "contoso"] {
        s.domain(&format!("{slug}.localhost"), slug);
    }
    s.push(
        "identity_providers",
        &[
            "id",
            "tenant_id",
            "issuer_url",
            "client_id",
            "client_secret_ref",
            "audience",
            "algorithms",
            "created_at",
        ],
        vec![
            demo_id("idp", "platform").into(),
            demo_id("tenant", "platform").into(),
            DEMO_ISSUER.into(),
            "portico-demo".into(),
            Value::Text(None),
            "portico".into(),
            "ES256".into(),
            s.epoch.into(),
        ],
    );

    s.user(
        "ops@platform.test",
        "Olivia Ops",
        "platform",
        &[("platform_admin", "")],
    );
    s.user(
        "admin@northwind.test",
        "Nadia Admin",
        "northwind",
        &[("reseller_admin", "")],
    );
    s.user(
        "pricing@northwind.test",
        "Paul Pricing",
        "northwind",
        &[("pricing_manager", "")],
    );
    s.user(
        "rep-eu@northwind.test",
        "Elena Rep",
        "northwind",
        &[("sales_rep", "EU")],
    );
    s.user(
        "rep-na@northwind.test",
        "Nathan Rep",
        "northwind",
        &[("sales_rep", "NA")],
    );
    s.user(
        "support@northwind.test",
        "Sam Support",
        "northwind",
        &[("support", "")],
    );
    s.user(
        "admin@contoso.test",
        "Carla Admin",
        "contoso",
        &[("reseller_admin", "")],
    );
    s.user(
        "admin@alpine.test",
        "Anton Admin",
        "alpine-dealers",
        &[("customer_admin", "")],
    );
    s.user(
        "buyer@alpine.test",
        "Berta Buyer",
        "alpine-dealers",
        &[("buyer", "")],
    );
    s.user(
        "viewer@alpine.test",
        "Viktor Viewer",
        "alpine-dealers",
        &[("viewer", "")],
    );
    s.user(
        "admin@prairie.test",
        "Peggy Admin",
        "prairie-supply",
        &[("customer_admin", "")],
    );
    s.user(
        "buyer@prairie.test",
        "Bill Buyer",
        "prairie-supply",
        &[("buyer", "")],
    );
    s.user(
        "admin@fjord.test",
        "Frida Admin",
        "fjord-outfitters",
        &[("customer_admin", "")],
    );
    s.user(
        "admin@harbor.test",
        "Hank Admin",
        "harbor-tools",
        &[("customer_admin", "")],
    );
    s.user(
        "buyer@harbor.test",
        "Hilda Buyer",
        "harbor-tools",
        &[("buyer", "")],
    );

    // Delegations (at most two years each). The active ones run to 2028 so the demo stays valid.
    s.delegation(
        "alpine-northwind",
        "alpine-dealers",
        "northwind",
        "USER_ADMIN,SETTINGS_ADMIN",
        "ACTIVE",
        at(2026, 6, 1),
        Some(at(2026, 6, 2)),
        at(2028, 6, 1),
    );
    s.delegation(
        "prairie-northwind-support",
        "prairie-supply",
        "northwind",
        "SUPPORT_READONLY",
        "ACTIVE",
        at(2026, 6, 1),
        Some(at(2026, 6, 3)),
        at(2028, 6, 1),
    );
    s.delegation(
        "prairie-northwind-users",
        "prairie-supply",
        "northwind",
        "USER_ADMIN",
        "EXPIRED",
        at(2025, 1, 10),
        Some(at(2025, 1, 11)),
        at(2026, 1, 10),
    );
    s.delegation(
        "fjord-northwind",
        "fjord-outfitters",
        "northwind",
        "USER_ADMIN",
        "PENDING",
        at(2026, 10, 1),
        None,
        at(2028, 10, 1),
    );
    s.delegation(
        "harbor-contoso",
        "harbor-tools",
        "contoso",
        "USER_ADMIN",
        "ACTIVE",
        at(2026, 3, 1),
        Some(at(2026, 3, 2)),
        at(2028, 3, 1),
    );

    // Delegations are used only by the staff they are assigned to (DESIGN section 9).
    s.assign(
        "alpine-northwind",
        "alpine-dealers",
        "northwind",
        "admin@northwind.test",
    );
    for staff in ["admin@northwind.test", "support@northwind.test"] {
        s.assign(
            "prairie-northwind-support",
            "prairie-supply",
            "northwind",
            staff,
        );
    }
    s.assign(
        "harbor-contoso",
        "harbor-tools",
        "contoso",
        "admin@contoso.test",
    );

    // Master catalog.
    let masters = master_products();
    let platform = demo_id("tenant", "platform");
    for m in &masters {
        let suppliers = [
            "Global Tools Supply GmbH",
            "Pacific Industrial Ltd",
            "Nordic Hardware AB",
            "Midwest Fastening Inc",
        ];
        let attributes = serde_json::json!({ "warranty_years": 1 + m.index % 3, "weight_kg": 0.5 + (m.index % 17) as f64 / 2.0 });
        s.push(
            "master_products",
            &[
                "id",
                "tenant_id",
                "sku",
                "name",
                "description",
                "brand",
                "category",
                "attributes",
                "supplier",
                "created_at",
                "updated_at",
            ],
            vec![
                m.id.clone().into(),
                platform.clone().into(),
                m.sku.clone().into(),
                m.name.clone().into(),
                format!(
                    "{} for professional use. Category: {}.",
                    m.name,
                    m.category.replace('/', " › ")
                )
                .into(),
                m.brand.into(),
                m.category.into(),
                attributes.to_string().into(),
                suppliers[m.index % suppliers.len()].into(),
                s.epoch.into(),
                s.epoch.into(),
            ],
        );
    }

    let year = at(2026, 1, 1);
    let nw_eu = s.price_list(
        "northwind",
        "Northwind EU 2026",
        "EU",
        "EUR",
        10,
        year,
        None,
    );
    let nw_na = s.price_list(
        "northwind",
        "Northwind NA 2026",
        "NA",
        "USD",
        10,
        year,
        None,
    );
    // A promotion that has ended: it must not win any more, whatever its priority.
    let nw_promo = s.price_list(
        "northwind",
        "Northwind EU Spring Promo",
        "EU",
        "EUR",
        20,
        at(2026, 3, 1),
        Some(at(2026, 5, 1)),
    );
    let co_eu = s.price_list("contoso", "Contoso EU 2026", "EU", "EUR", 10, year, None);

    // Northwind lists 6 of every 8 master products, in EU and NA (a few in one region only);
    // the Acme drill is white-labelled.
    for m in masters.iter().filter(|m| m.index % 8 < 6) {
        let regions: &[&str] = match m.index % 10 {
            3 => &["EU"],
            7 => &["NA"],
            _ => &["EU", "NA"],
        };
        let (name, description) = if m.sku == "ACM-DRL-18" {
            (
                Some("Northwind ProDrill 18V"),
                Some("Northwind's own-label 18V cordless drill, two batteries, case."),
            )
        } else {
            (None, None)
        };
        let list = m.base_price * 115 / 100;
        let id = s.listing(NewListing {
            reseller: "northwind",
            key: &m.sku,
            master: Some(&m.id),
            name,
            description,
            regions,
            cost: Some((m.base_price * 70 / 100, "EUR")),
            ..NewListing::default()
        });
        if regions.contains(&"EU") {
            s.price("northwind", &nw_eu, &id, 1, list);
            s.price("northwind", &nw_eu, &id, 10, list * 95 / 100);
            if m.index % 4 == 0 {
                s.price("northwind", &nw_promo, &id, 1, list * 80 / 100);
            }
        }
        if regions.contains(&"NA") {
            s.price("northwind", &nw_na, &id, 1, list * 112 / 100);
        }
    }

    // Northwind's own products: the marker rows.
    let turbine = s.listing(NewListing {
        reseller: "northwind",
        key: "turbine",
        sku: Some("NW-TURBINE"),
        name: Some("Northwind Exclusive Turbine"),
        description: Some("High-output air turbine, exclusive to Northwind dealers."),
        brand: Some("Northwind"),
        category: Some("Workshop/Compressors"),
        regions: &["EU", "NA"],
        cost: Some((70_000, "EUR")),
        ..NewListing::default()
    });
    s.price("northwind", &nw_eu, &turbine, 1, 120_000);
    s.price("northwind", &nw_eu, &turbine, 10, 110_000);
    s.price("northwind", &nw_na, &turbine, 1, 135_000);
    s.push(
        "contract_prices",
        &[
            "id",
            "tenant_id",
            "customer_id",
            "listing_id",
            "amount",
            "currency",
            "valid_from",
            "created_at",
            "updated_at",
        ],
        vec![
            demo_id("contract", "alpine/turbine").into(),
            demo_id("tenant", "northwind").into(),
            demo_id("tenant", "alpine-dealers").into(),
            turbine.clone().into(),
            99_900_i64.into(),
            "EUR".into(),
            year.into(),
            s.epoch.into(),
            s.epoch.into(),
        ],
    );
    let compressor = s.listing(NewListing {
        reseller: "northwind",
        key: "eu-compressor",
        sku: Some("NW-EU-COMP"),
        name: Some("Northwind EU-Only Compressor"),
        description: Some("Compressor certified for the EU market only."),
        brand: Some("Northwind"),
        category: Some("Workshop/Compressors"),
        regions: &["EU"],
        cost: Some((28_000, "EUR")),
        ..NewListing::default()
    });
    s.price("northwind", &nw_eu, &compressor, 1, 45_000);
    let special = s.listing(NewListing {
        reseller: "northwind",
        key: "alpine-special",
        sku: Some("NW-ALP-SE"),
        name: Some("Northwind Alpine Special Edition"),
        description: Some("Special edition assembled for Alpine Dealers."),
        brand: Some("Northwind"),
        category: Some("Power Tools/Drills"),
        regions: &["EU"],
        restricted_to: &["alpine-dealers"],
        cost: Some((18_000, "EUR")),
        ..NewListing::default()
    });
    s.price("northwind", &nw_eu, &special, 1, 30_000);

    // Contoso lists every other master product, EU only, unchanged.
    for m in masters.iter().filter(|m| m.index % 2 == 0) {
        let id = s.listing(NewListing {
            reseller: "contoso",
            key: &m.sku,
            master: Some(&m.id),
            regions: &["EU"],
            cost: Some((m.base_price * 75 / 100, "EUR")),
            ..NewListing::default()
        });
        s.price("contoso", &co_eu, &id, 1, m.base_price * 120 / 100);
    }
    let winch = s.listing(NewListing {
        reseller: "contoso",
        key: "harbor-winch",
        sku: Some("CT-WINCH"),
        name: Some("Contoso Harbor Winch"),
        description: Some("Marine-grade hand winch for harbor work."),
        brand: Some("Contoso"),
        category: Some("Outdoor/Winches"),
        regions: &["EU"],
        cost: Some((50_000, "EUR")),
        ..NewListing::default()
    });
    s.price("contoso", &co_eu, &winch, 1, 80_000);

    for (slug, primary) in [
        ("platform", "#334155"),
        ("northwind", "#0f4c81"),
        ("contoso", "#7c2d12"),
    ] {
        s.push(
            "themes",
            &["tenant_id", "version", "tokens", "created_at", "created_by"],
            vec![
                demo_id("tenant", slug).into(),
                1_i64.into(),
                serde_json::json!({ "color.primary": primary, "font.family": "Inter, sans-serif" })
                    .to_string()
                    .into(),
                s.epoch.into(),
                "seed".into(),
            ],
        );
    }
    s.push(
        "feature_flags",
        &["tenant_id", "key", "enabled", "updated_at"],
        vec![
            demo_id("tenant", "northwind").into(),
            "quick_order".into(),
            true.into(),
            s.epoch.into(),
        ],
    );
    s.out
}

/// The ids of every demo tenant: the scope the seed writes under.
pub fn demo_tenant_ids() -> Vec<String> {
    [
        "platform",
        "northwind",
        "contoso",
        "alpine-dealers",
        "fjord-outfitters",
        "prairie-supply",
        "harbor-tools",
    ]
    .iter()
    .map(|slug| demo_id("tenant", slug))
    .collect()
}
