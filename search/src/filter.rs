//! The visibility filter as a bit set per segment, computed once per index generation and
//! visibility and kept with the index.
//!
//! Why: the filter's clauses are dense (active, sold in a region, visible to all or to the
//! caller's customer: most of a catalog), and as term scorers each query walked them through
//! a union over the whole catalog, the costliest part of a search once its words were
//! resolved. As a bit set the filter costs a copy and a lookup per candidate.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::index::SegmentId;
use tantivy::query::{
    BitSetDocSet, BooleanQuery, ConstScorer, EmptyScorer, EnableScoring, Explanation, Query,
    Scorer, Weight,
};
use tantivy::{DocId, Score, Searcher, SegmentReader};
use tantivy_common::BitSet;

use crate::SearchError;
use crate::document::Fields;
use crate::query::{Visibility, visibility_clauses};

/// The documents of each segment that pass one visibility; `None` for a visibility that
/// filters nothing (a reseller's own staff).
pub struct VisibleDocs {
    segments: Option<HashMap<SegmentId, BitSet>>,
}

impl std::fmt::Debug for VisibleDocs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VisibleDocs")
            .field("segments", &self.segments.as_ref().map(HashMap::len))
            .finish()
    }
}

impl VisibleDocs {
    /// Runs the visibility's clauses once over every segment of `searcher`.
    pub fn compute(
        searcher: &Searcher,
        f: &Fields,
        visibility: &Visibility,
    ) -> Result<VisibleDocs, SearchError> {
        let clauses = visibility_clauses(f, visibility);
        if clauses.is_empty() {
            return Ok(VisibleDocs { segments: None });
        }
        let query = BooleanQuery::new(clauses);
        let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
        let mut segments = HashMap::new();
        for segment in searcher.segment_readers() {
            let mut bits = BitSet::with_max_value(segment.max_doc());
            weight.for_each_no_score(segment, &mut |docs: &[DocId]| {
                for doc in docs {
                    bits.insert(*doc);
                }
            })?;
            segments.insert(segment.segment_id(), bits);
        }
        Ok(VisibleDocs {
            segments: Some(segments),
        })
    }

    /// The clause that applies it, unless it filters nothing.
    pub fn clause(self: &Arc<Self>) -> Option<VisibleQuery> {
        self.segments.is_some().then(|| VisibleQuery(self.clone()))
    }

    fn segment(&self, segment: SegmentId) -> Option<&BitSet> {
        self.segments.as_ref()?.get(&segment)
    }
}

/// A clause that must hold: the document is in the kept set. Adds nothing to the score.
#[derive(Debug, Clone)]
pub struct VisibleQuery(pub Arc<VisibleDocs>);

impl Query for VisibleQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(VisibleWeight(self.0.clone())))
    }
}

struct VisibleWeight(Arc<VisibleDocs>);

impl Weight for VisibleWeight {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        // A segment the set was not computed for matches nothing (never everything).
        Ok(match self.0.segment(reader.segment_id()) {
            Some(bits) => Box::new(ConstScorer::new(BitSetDocSet::from(bits.clone()), 0.0)),
            None => Box::new(EmptyScorer),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let visible = self
            .0
            .segment(reader.segment_id())
            .is_some_and(|bits| bits.contains(doc));
        if visible {
            Ok(Explanation::new("visible", 0.0))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} is not visible"
            )))
        }
    }
}

/// Visibilities whose sets are kept per index generation (`GenerationCache`): a handful, one per
/// kind of caller.
pub const CACHED_SETS: usize = 256;
