//! The limits on documents written to stay within them, and to break them.

use super::*;

fn check(query: &str) -> Result<(), Refusal> {
    check_nesting(query)?;
    let document = async_graphql::parser::parse_query(query).expect("parses");
    check_document(
        &document,
        &Limits {
            introspection: true,
            ..Limits::default()
        },
    )
}

/// `fragment F{i} on Tenant { ...F{i-1} ...F{i-1} }`: 2^levels selections once expanded.
fn fan_out(levels: usize) -> String {
    let mut doc = String::from("query { tenant { ...F0 } }\nfragment F0 on Tenant { slug }\n");
    for i in 1..=levels {
        doc.push_str(&format!(
            "fragment F{i} on Tenant {{ ...F{} ...F{} }}\n",
            i - 1,
            i - 1
        ));
    }
    doc.replace("...F0 } }\n", &format!("...F{levels} }} }}\n"))
}

#[test]
fn a_fragment_fan_out_is_measured_without_expanding_it() {
    let refusal = check(&fan_out(30)).unwrap_err();
    assert_eq!(refusal.code, ErrorCode::QueryTooComplex);
    assert!(
        refusal.message.contains("selections"),
        "{}",
        refusal.message
    );
    // Deeper than async-graphql's own recursion limit: refused as a chain.
    let refusal = check(&fan_out(60)).unwrap_err();
    assert_eq!(refusal.code, ErrorCode::QueryTooComplex);
    // Small fan-outs are ordinary documents.
    check(&fan_out(3)).expect("eight selections are fine");
}

#[test]
fn aliases_and_root_fields_are_counted_through_fragments() {
    let aliases: String = (0..40).map(|i| format!("a{i}: __typename ")).collect();
    let refusal = check(&format!("{{ tenant {{ {aliases} }} }}")).unwrap_err();
    assert!(refusal.message.contains("aliases"), "{}", refusal.message);
    let roots: String = (0..25).map(|i| format!("f{i}: tenant {{ id }} ")).collect();
    let refusal = check(&format!(
        "query {{ ...R }} fragment R on Query {{ {roots} }}"
    ))
    .unwrap_err();
    assert!(
        refusal.message.contains("root fields"),
        "{}",
        refusal.message
    );
}

#[test]
fn cycles_and_long_fragment_chains_are_refused() {
    let refusal =
        check("{ tenant { ...A } } fragment A on Tenant { ...B } fragment B on Tenant { ...A }")
            .unwrap_err();
    assert!(
        refusal.message.contains("spreads itself"),
        "{}",
        refusal.message
    );
    let mut chain = String::from("{ tenant { ...F0 } }\n");
    for i in 0..100 {
        chain.push_str(&format!("fragment F{i} on Tenant {{ ...F{} }}\n", i + 1));
    }
    chain.push_str("fragment F100 on Tenant { id }\n");
    let refusal = check(&chain).unwrap_err();
    assert!(
        refusal.message.contains("inside each other"),
        "{}",
        refusal.message
    );
}

#[test]
fn introspection_has_its_own_depth_and_can_be_switched_off() {
    let type_ref = "kind name ofType { ".repeat(9) + "kind name" + &" }".repeat(9);
    let query =
        format!("{{ __schema {{ types {{ fields {{ args {{ type {{ {type_ref} }} }} }} }} }} }}");
    check(&query).expect("graphql-js's introspection depth passes");
    let document = async_graphql::parser::parse_query(&query).unwrap();
    let refusal = check_document(&document, &Limits::default()).unwrap_err();
    assert_eq!(refusal.code, ErrorCode::Forbidden);
    assert!(refusal.message.contains("introspection is disabled"));
    // `__typename` is not introspection.
    let document = async_graphql::parser::parse_query("{ __typename }").unwrap();
    check_document(&document, &Limits::default()).expect("__typename is fine");
}

#[test]
fn integers_beyond_32_bits_name_their_argument_or_variable() {
    let document =
        async_graphql::parser::parse_query("{ customers(first: 2147483648) { totalCount } }")
            .unwrap();
    let refusal = check_int_inputs(&document, &Default::default()).unwrap_err();
    assert_eq!(refusal.code, ErrorCode::BadUserInput);
    assert_eq!(refusal.field.as_deref(), Some("first"));
    let document = async_graphql::parser::parse_query(
        "query($q: Int!) { products(first: 1) { edges { node { price(quantity: $q) { source } } } } }",
    )
    .unwrap();
    let variables = async_graphql::Variables::from_json(serde_json::json!({ "q": -2147483649i64 }));
    let refusal = check_int_inputs(&document, &variables).unwrap_err();
    assert_eq!(refusal.field.as_deref(), Some("$q"));
    let variables = async_graphql::Variables::from_json(serde_json::json!({ "q": 2147483647 }));
    check_int_inputs(&document, &variables).expect("the largest Int is an Int");
}

#[test]
fn data_depth_is_limited() {
    let deep = "{ tenant ".to_owned() + &"{ a ".repeat(12) + &"}".repeat(13);
    let refusal = check(&deep).unwrap_err();
    assert!(
        refusal.message.contains("nested too deep"),
        "{}",
        refusal.message
    );
}

#[test]
fn bracket_nesting_is_bounded_before_parsing_outside_strings_and_comments() {
    let deep = "{ a ".repeat(20_000);
    let refusal = check_nesting(&deep).unwrap_err();
    assert!(
        refusal.message.contains("nests brackets"),
        "{}",
        refusal.message
    );
    let quoted = format!(
        "{{ search(query: \"{}\") {{ total }} }} # {}\n",
        "{".repeat(500),
        "(".repeat(500)
    );
    check_nesting(&quoted).expect("brackets in strings and comments do not count");
    let block = format!(
        "{{ search(query: \"\"\"{}\"\"\") {{ total }} }}",
        "[".repeat(500)
    );
    check_nesting(&block).expect("nor in block strings");
}
