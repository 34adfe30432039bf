//! The index schema and how a listing becomes a document. Nothing priced is indexed.

use portico_store::IndexListing;
use tantivy::schema::{
    FacetOptions, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{Index, TantivyDocument};

/// Words: split on non-alphanumerics, lowercased, accents folded, overlong tokens dropped.
pub const WORDS: &str = "portico_words";
/// A whole value lowercased (SKU exact match).
pub const EXACT: &str = "portico_exact";

pub fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

fn exact_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .build()
}

/// Tokenizers are not stored in the index: every open registers them again.
pub fn register_tokenizers(index: &Index) {
    index.tokenizers().register(WORDS, words_analyzer());
    index.tokenizers().register(EXACT, exact_analyzer());
}

#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub sku: Field,
    pub sku_exact: Field,
    pub name: Field,
    pub description: Field,
    /// Every word users search, of every text field, each as often as its field weighs.
    pub words: Field,
    pub brand_facet: Field,
    pub category: Field,
    pub regions: Field,
    pub status: Field,
    pub visibility: Field,
    pub customers: Field,
}

/// What a listing's text weighs in `words`: each field's text is added this many times, so a
/// word's frequency carries its field's weight (BM25 over one field, as BM25F would weigh
/// several). Why one field: a word searched over six fields was a union of six posting lists,
/// walked for every query, and the costliest part of a search; over one field it is one list.
pub const WEIGHTS: [(&str, usize); 6] = [
    ("sku", 3),
    ("name", 3),
    ("brand", 2),
    ("category", 1),
    ("description", 1),
    ("attributes", 1),
];

fn weight(field: &str) -> usize {
    WEIGHTS
        .iter()
        .find(|(name, _)| *name == field)
        .map_or(1, |(_, w)| *w)
}

/// The fields searched for user text, with their weights.
pub fn text_fields(f: &Fields) -> [(Field, f32); 1] {
    [(f.words, 1.0)]
}

/// Shown and highlighted, not searched (`words` is).
fn stored_text() -> TextOptions {
    TextOptions::default().set_stored()
}

fn words_field() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(WORDS)
            .set_index_option(IndexRecordOption::WithFreqs),
    )
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        sku: b.add_text_field("sku", stored_text()),
        sku_exact: b.add_text_field(
            "sku_exact",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(EXACT)
                    .set_index_option(IndexRecordOption::Basic),
            ),
        ),
        name: b.add_text_field("name", stored_text()),
        description: b.add_text_field("description", stored_text()),
        words: b.add_text_field("words", words_field()),
        brand_facet: b.add_facet_field("brand_facet", FacetOptions::default()),
        category: b.add_facet_field("category", FacetOptions::default()),
        regions: b.add_text_field("regions", STRING),
        status: b.add_text_field("status", STRING),
        visibility: b.add_text_field("visibility", STRING),
        customers: b.add_text_field("customers", STRING),
    };
    (b.build(), fields)
}

/// Looks the fields up by name in an opened index's schema.
pub fn fields_of(schema: &Schema) -> Option<Fields> {
    let f = |name: &str| schema.get_field(name).ok();
    Some(Fields {
        id: f("id")?,
        sku: f("sku")?,
        sku_exact: f("sku_exact")?,
        name: f("name")?,
        description: f("description")?,
        words: f("words")?,
        brand_facet: f("brand_facet")?,
        category: f("category")?,
        regions: f("regions")?,
        status: f("status")?,
        visibility: f("visibility")?,
        customers: f("customers")?,
    })
}

/// A category path (`Power Tools/Drivers`) as a facet (`/Power Tools/Drivers`).
pub fn category_facet(path: &str) -> tantivy::schema::Facet {
    tantivy::schema::Facet::from_path(path.split('/').map(str::trim).filter(|s| !s.is_empty()))
}

pub fn brand_facet(brand: &str) -> tantivy::schema::Facet {
    tantivy::schema::Facet::from_path([brand])
}

/// The words of an attributes JSON object: its values, never its keys' structure.
fn attribute_words(attributes: &str) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(attributes) else {
        return String::new();
    };
    let mut out = Vec::new();
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Number(n) => out.push(n.to_string()),
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(o) => o.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(&value, &mut out);
    out.join(" ")
}

pub fn document(f: &Fields, item: &IndexListing) -> TantivyDocument {
    let l = &item.listing;
    let mut doc = TantivyDocument::default();
    let mut words = |field: &str, text: &str| {
        for _ in 0..weight(field) {
            doc.add_text(f.words, text);
        }
    };
    words("sku", &l.sku);
    words("name", &l.name);
    if let Some(d) = &l.description {
        words("description", d);
    }
    if let Some(b) = l.brand.as_deref().filter(|b| !b.is_empty()) {
        words("brand", b);
    }
    if let Some(c) = l.category.as_deref().filter(|c| !c.is_empty()) {
        words("category", &c.replace('/', " "));
    }
    if let Some(a) = &item.attributes {
        words("attributes", &attribute_words(a));
    }
    doc.add_text(f.id, &l.id);
    doc.add_text(f.sku, &l.sku);
    doc.add_text(f.sku_exact, &l.sku);
    doc.add_text(f.name, &l.name);
    if let Some(d) = &l.description {
        doc.add_text(f.description, d);
    }
    if let Some(b) = l.brand.as_deref().filter(|b| !b.is_empty()) {
        doc.add_facet(f.brand_facet, brand_facet(b));
    }
    if let Some(c) = l.category.as_deref().filter(|c| !c.is_empty()) {
        doc.add_facet(f.category, category_facet(c));
    }
    for r in &l.regions {
        doc.add_text(f.regions, r.as_str());
    }
    doc.add_text(f.status, l.status.as_str());
    doc.add_text(f.visibility, l.visibility.as_str());
    for c in &item.customers {
        doc.add_text(f.customers, c);
    }
    doc
}
