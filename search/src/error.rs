use thiserror::Error;

#[derive(Debug, Error)]
pub enum SearchError {
    /// The tenant's index is being built (first start, `portico reindex`, or a rebuild after
    /// corruption): the caller should try again shortly.
    #[error("the search index of this catalog is being built, try again shortly")]
    Building,
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index files: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("store: {0}")]
    Store(#[from] portico_store::StoreError),
    #[error("search task failed: {0}")]
    Task(String),
}
