//! The floor of the catalog benchmark: a bare axum handler answering POST /graphql with a fixed
//! JSON body of a catalog page's size, on the same runtime settings as the server.
//!
//!     bare 127.0.0.1:18190 BODY_FILE

use axum::Router;
use axum::routing::post;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:18190".into());
    let body: &'static str = match args.next() {
        Some(path) => Box::leak(
            std::fs::read_to_string(path)
                .expect("body file")
                .into_boxed_str(),
        ),
        None => r#"{"data":{}}"#,
    };
    let app = Router::new().route(
        "/graphql",
        post(move || async move {
            (
                [("content-type", "application/graphql-response+json")],
                body,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!("bare: listening on http://{addr}");
    axum::serve(listener, app).await.expect("serve");
}
