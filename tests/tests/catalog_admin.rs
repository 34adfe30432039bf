//! Reseller staff changing the catalog and contract prices, on both backends: the policy's
//! FORBIDDEN inside the tenant and NOT_FOUND across, field-level errors that change nothing,
//! optimistic concurrency, audit rows, and the effect on what customers see.

use portico_store::TenantScope;
use portico_store::seed::demo_id;
use portico_tests::{CO, NW, TestApp, TestDb, audit_len, customer_id, on_both_backends, turbine};
use serde_json::json;

const UPDATE: &str = "mutation($input: UpdateListingInput!) { updateListing(input: $input) { product { name version status regions } } }";
const PRODUCT: &str =
    "query($id: ID!) { product(id: $id) { name price { amount { amount currency } source } } }";

async fn listing_updates_follow_the_policy_validate_and_detect_conflicts(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let (id, version) = turbine(&app).await;
    let audit_before = audit_len(&app).await;

    // Inside the tenant but not theirs to change: FORBIDDEN. Across: NOT_FOUND.
    let input = json!({ "input": { "id": id, "expectedVersion": version, "name": "Hijacked" } });
    for (email, host, code) in [
        ("rep-eu@northwind.test", NW, "FORBIDDEN"),
        ("support@northwind.test", NW, "FORBIDDEN"),
        ("buyer@alpine.test", NW, "FORBIDDEN"),
        ("admin@contoso.test", CO, "NOT_FOUND"),
        ("buyer@harbor.test", CO, "NOT_FOUND"),
        ("buyer@prairie.test", NW, "FORBIDDEN"),
    ] {
        let r = app.as_user(email, host, UPDATE, input.clone()).await;
        assert_eq!(r.first_code(), Some(code), "{email}: {:?}", r.body);
    }
    // Bad input names the field.
    for (patch, field) in [
        (json!({ "name": "  " }), "name"),
        (json!({ "name": "x".repeat(201) }), "name"),
        (json!({ "regions": [] }), "regions"),
        (json!({ "description": "d".repeat(4001) }), "description"),
        (
            json!({ "name": "Stale", "expectedVersion": version - 1 }),
            "expectedVersion",
        ),
    ] {
        let mut input = json!({ "id": id, "expectedVersion": version });
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        let r = app
            .as_user(
                "pricing@northwind.test",
                NW,
                UPDATE,
                json!({ "input": input }),
            )
            .await;
        assert_eq!(
            r.first_code(),
            Some("BAD_USER_INPUT"),
            "{field}: {:?}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["extensions"]["field"], field);
    }
    assert_eq!(
        audit_len(&app).await,
        audit_before,
        "refusals write nothing"
    );
    assert_eq!(turbine(&app).await.1, version, "refusals change nothing");

    let ok = app.as_user("pricing@northwind.test", NW, UPDATE, json!({ "input": { "id": id, "expectedVersion": version, "name": "Northwind Turbine Pro", "regions": ["EU"] } })).await;
    let product = &ok.body["data"]["updateListing"]["product"];
    assert_eq!(product["name"], "Northwind Turbine Pro", "{:?}", ok.body);
    assert_eq!(product["version"], version + 1);
    assert_eq!(product["regions"], json!(["EU"]));
    assert_eq!(audit_len(&app).await, audit_before + 1);
    let seen = app
        .as_user("buyer@alpine.test", NW, PRODUCT, json!({ "id": id }))
        .await;
    assert_eq!(
        seen.body["data"]["product"]["name"],
        "Northwind Turbine Pro"
    );
    // Now EU only: prairie (NA) no longer finds it.
    let gone = app
        .as_user("buyer@prairie.test", NW, PRODUCT, json!({ "id": id }))
        .await;
    assert_eq!(gone.first_code(), Some("NOT_FOUND"));
    // The same version again is a conflict.
    let stale = app
        .as_user(
            "admin@northwind.test",
            NW,
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": version, "status": "INACTIVE" } }),
        )
        .await;
    assert_eq!(
        stale.body["errors"][0]["extensions"]["field"],
        "expectedVersion"
    );

    // Unlisting: customers lose it, staff keep it.
    let inactive = app
        .as_user(
            "admin@northwind.test",
            NW,
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": version + 1, "status": "INACTIVE" } }),
        )
        .await;
    assert_eq!(
        inactive.body["data"]["updateListing"]["product"]["status"], "INACTIVE",
        "{:?}",
        inactive.body
    );
    assert_eq!(
        app.as_user("buyer@alpine.test", NW, PRODUCT, json!({ "id": id }))
            .await
            .first_code(),
        Some("NOT_FOUND")
    );
    assert!(
        app.as_user("pricing@northwind.test", NW, PRODUCT, json!({ "id": id }))
            .await
            .body["data"]["product"]
            .is_object()
    );
    let nw = demo_id("tenant", "northwind");
    let report = app
        .store
        .verify_audit_chain(&TenantScope::single(nw.clone()), &nw)
        .await
        .unwrap();
    assert_eq!(report.first_broken, None);
}

const SET: &str = "mutation($input: SetContractPriceInput!) { setContractPrice(input: $input) { customer { name contractPrices { sku amount { amount currency } } } } }";
const REMOVE: &str = "mutation($input: RemoveContractPriceInput!) { removeContractPrice(input: $input) { customer { name } } }";
const PRICE_FOR: &str = "query($c: ID!, $p: ID!) { priceFor(customerId: $c, productId: $p) { amount { amount currency } source } }";

async fn contract_prices_are_set_and_ended_by_pricing_staff_for_their_own_customers(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let (turbine, _) = turbine(&app).await;
    let prairie = customer_id("prairie-supply");
    let alpine = customer_id("alpine-dealers");
    let set = |amount: &str, currency: &str| json!({ "input": { "customerId": prairie, "productId": turbine, "amount": amount, "currency": currency } });
    let audit_before = audit_len(&app).await;

    for (input, field) in [
        (set("1234.50", "EUR"), "currency"),
        (set("1.005", "USD"), "amount"),
        (set("-5", "USD"), "amount"),
        (set("10000000.01", "USD"), "amount"),
        (set("12", "usd"), "currency"),
        (
            json!({ "input": { "customerId": prairie, "productId": turbine, "amount": "1.00", "currency": "USD", "validFrom": "2027-01-01T00:00:00Z", "validTo": "2026-12-01T00:00:00Z" } }),
            "validTo",
        ),
    ] {
        let r = app.as_user("pricing@northwind.test", NW, SET, input).await;
        assert_eq!(
            r.first_code(),
            Some("BAD_USER_INPUT"),
            "{field}: {:?}",
            r.body
        );
        assert_eq!(
            r.body["errors"][0]["extensions"]["field"], field,
            "{:?}",
            r.body
        );
    }
    for (email, host, code) in [
        ("rep-na@northwind.test", NW, "FORBIDDEN"),
        ("support@northwind.test", NW, "FORBIDDEN"),
        ("admin@prairie.test", NW, "FORBIDDEN"),
        ("buyer@prairie.test", NW, "NOT_FOUND"),
        ("admin@contoso.test", CO, "NOT_FOUND"),
        ("rep-eu@northwind.test", NW, "NOT_FOUND"),
    ] {
        let r = app.as_user(email, host, SET, set("1.00", "USD")).await;
        assert_eq!(r.first_code(), Some(code), "{email}: {:?}", r.body);
    }
    assert_eq!(
        audit_len(&app).await,
        audit_before,
        "refusals write nothing"
    );

    let ok = app
        .as_user("pricing@northwind.test", NW, SET, set("1234.50", "USD"))
        .await;
    assert_eq!(
        ok.body["data"]["setContractPrice"]["customer"]["contractPrices"],
        json!([{ "sku": "NW-TURBINE", "amount": { "amount": "1234.50", "currency": "USD" } }]),
        "{:?}",
        ok.body
    );
    let buyer = app
        .as_user("buyer@prairie.test", NW, PRODUCT, json!({ "id": turbine }))
        .await;
    assert_eq!(
        buyer.body["data"]["product"]["price"],
        json!({ "amount": { "amount": "1234.50", "currency": "USD" }, "source": "CONTRACT" })
    );

    // Staff quote a customer's price; reps only in their regions; support never.
    let quote = app
        .as_user(
            "pricing@northwind.test",
            NW,
            PRICE_FOR,
            json!({ "c": alpine, "p": turbine }),
        )
        .await;
    assert_eq!(
        quote.body["data"]["priceFor"],
        json!({ "amount": { "amount": "999.00", "currency": "EUR" }, "source": "CONTRACT" })
    );
    assert_eq!(
        app.as_user(
            "rep-eu@northwind.test",
            NW,
            PRICE_FOR,
            json!({ "c": alpine, "p": turbine })
        )
        .await
        .body["data"]["priceFor"]["source"],
        "CONTRACT"
    );
    assert_eq!(
        app.as_user(
            "rep-na@northwind.test",
            NW,
            PRICE_FOR,
            json!({ "c": alpine, "p": turbine })
        )
        .await
        .first_code(),
        Some("NOT_FOUND")
    );
    assert_eq!(
        app.as_user(
            "support@northwind.test",
            NW,
            PRICE_FOR,
            json!({ "c": alpine, "p": turbine })
        )
        .await
        .first_code(),
        Some("FORBIDDEN")
    );
    let masked = app
        .as_user(
            "support@northwind.test",
            NW,
            "query($c: ID!) { customer(id: $c) { contractPrices { sku } } }",
            json!({ "c": alpine }),
        )
        .await;
    assert_eq!(masked.first_code(), Some("FIELD_MASKED"));

    // Ending alpine's contract: its buyer falls back to the EU list.
    let remove = json!({ "input": { "customerId": alpine, "productId": turbine } });
    let r = app
        .as_user("admin@northwind.test", NW, REMOVE, remove.clone())
        .await;
    assert_eq!(
        r.body["data"]["removeContractPrice"]["customer"]["name"], "Alpine Dealers",
        "{:?}",
        r.body
    );
    let buyer = app
        .as_user("buyer@alpine.test", NW, PRODUCT, json!({ "id": turbine }))
        .await;
    assert_eq!(
        buyer.body["data"]["product"]["price"],
        json!({ "amount": { "amount": "1200.00", "currency": "EUR" }, "source": "PRICE_LIST" })
    );
    assert_eq!(
        app.as_user("admin@northwind.test", NW, REMOVE, remove)
            .await
            .first_code(),
        Some("NOT_FOUND")
    );
    assert_eq!(audit_len(&app).await, audit_before + 2);
}

async fn a_restricted_listing_is_seen_by_its_assortment_only(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let (id, version) = turbine(&app).await;
    let fjord = customer_id("fjord-outfitters");
    let harbor = customer_id("harbor-tools");
    // Another reseller's customer in the assortment: NOT_FOUND, nothing changed.
    let foreign = app.as_user("pricing@northwind.test", NW, UPDATE, json!({ "input": { "id": id, "expectedVersion": version, "visibility": "RESTRICTED", "customers": [harbor] } })).await;
    assert_eq!(
        foreign.first_code(),
        Some("NOT_FOUND"),
        "{:?}",
        foreign.body
    );
    assert!(
        app.as_user("buyer@alpine.test", NW, PRODUCT, json!({ "id": id }))
            .await
            .body["data"]["product"]
            .is_object()
    );

    let ok = app.as_user("pricing@northwind.test", NW, UPDATE, json!({ "input": { "id": id, "expectedVersion": version, "visibility": "RESTRICTED", "customers": [fjord] } })).await;
    assert_eq!(
        ok.body["data"]["updateListing"]["product"]["version"],
        version + 1,
        "{:?}",
        ok.body
    );
    assert!(
        app.as_user("admin@fjord.test", NW, PRODUCT, json!({ "id": id }))
            .await
            .body["data"]["product"]
            .is_object(),
        "fjord is in the assortment"
    );
    assert_eq!(
        app.as_user("buyer@alpine.test", NW, PRODUCT, json!({ "id": id }))
            .await
            .first_code(),
        Some("NOT_FOUND"),
        "alpine is not"
    );
}

on_both_backends!(
    a_restricted_listing_is_seen_by_its_assortment_only,
    listing_updates_follow_the_policy_validate_and_detect_conflicts,
    contract_prices_are_set_and_ended_by_pricing_staff_for_their_own_customers,
);
