//! The committed SDL is what the server serves: a change to the API shows up in review.

#[test]
fn the_committed_schema_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/portico.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let current = portico_resolvers::sdl();
    if committed != current {
        if std::env::var("PORTICO_UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
            std::fs::write(path, &current).expect("write schema/portico.graphql");
            return;
        }
        panic!(
            "schema/portico.graphql is out of date; run `cargo run -- schema > schema/portico.graphql` \
             (or PORTICO_UPDATE_SCHEMA=1 cargo test) and commit it"
        );
    }
}
