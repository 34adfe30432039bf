//! Documents written to hurt, shared by the tests that assert what comes back
//! (`tests/tests/hostile_documents.rs`) and the benchmark that reports how fast
//! (`bench/src/bin/hostile.rs`).

/// `fragment F{i} on T { ...F{i-1} ...F{i-1} }`: 2^levels selections once expanded, about
/// 45 bytes a level. `on` is `Tenant` (spread inside `tenant`) or `Query` (at the root).
pub fn fan_out(on: &str, levels: usize) -> String {
    let mut doc = match on {
        "Tenant" => format!("query {{ tenant {{ ...F{levels} }} }}\n"),
        _ => format!("query {{ ...F{levels} }}\n"),
    };
    doc.push_str(&format!("fragment F0 on {on} {{ __typename }}\n"));
    for i in 1..=levels {
        doc.push_str(&format!(
            "fragment F{i} on {on} {{ ...F{} ...F{} }}\n",
            i - 1,
            i - 1
        ));
    }
    doc
}
