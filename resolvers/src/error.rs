use async_graphql::ErrorExtensions;
use thiserror::Error;

/// The codes every GraphQL error carries in `extensions.code` (DESIGN section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    FieldMasked,
    RateLimited,
    QueryTooComplex,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::FieldMasked => "FIELD_MASKED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::QueryTooComplex => "QUERY_TOO_COMPLEX",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

/// The API's one error type, mapped once to `extensions.code`.
#[derive(Debug, Error)]
pub enum ApiError {
    #[error("sign in to do this")]
    Unauthenticated,
    #[error("you may not do this")]
    Forbidden,
    /// A role above the caller's ceiling (the policy's `assign` rules).
    #[error("you may not hand out the role {0}")]
    RoleCeiling(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{field}: {message}")]
    BadUserInput { field: String, message: String },
    #[error("the service is unavailable, try again shortly")]
    Unavailable,
    #[error("internal error")]
    Internal,
}

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Unauthenticated => ErrorCode::Unauthenticated,
            ApiError::Forbidden | ApiError::RoleCeiling(_) => ErrorCode::Forbidden,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::BadUserInput { .. } => ErrorCode::BadUserInput,
            ApiError::Unavailable => ErrorCode::Unavailable,
            ApiError::Internal => ErrorCode::Internal,
        }
    }
}

impl From<portico_store::StoreError> for ApiError {
    fn from(err: portico_store::StoreError) -> Self {
        use portico_store::StoreError as E;
        match err {
            E::NotFound { entity } => ApiError::NotFound(entity),
            // The caller was allowed when the request began; the delegation ended before the
            // write could land.
            E::DelegationEnded => ApiError::Forbidden,
            E::Invalid { field, message } => ApiError::BadUserInput {
                field: field.to_owned(),
                message,
            },
            E::VersionConflict { .. } => ApiError::BadUserInput {
                field: "expectedVersion".to_owned(),
                message: err.to_string(),
            },
            E::Unavailable(message) => {
                tracing::warn!(error = %message, "database unavailable");
                ApiError::Unavailable
            }
            other => {
                // The message stays in the log; the client gets the code only.
                tracing::error!(error = %other, "store error");
                ApiError::Internal
            }
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string()).extend_with(|_, e| {
            e.set("code", self.code().as_str());
            if let ApiError::BadUserInput { field, .. } = self {
                e.set("field", field.as_str());
            }
        })
    }
}

// No `From<ApiError> for async_graphql::Error`: async-graphql's blanket impl for `Display` types
// would win and drop the code, so resolvers call `.extend()` explicitly.
