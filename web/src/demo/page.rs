//! The demo landing page (`GET /` with `--demo`): the portals, the demo users and how to query.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::HOST;
use axum::response::Html;
use portico_store::TenantScope;
use portico_store::model::TenantKind;

use crate::app::AppState;
use crate::html::escape;

pub async fn index(State(state): State<AppState>, headers: HeaderMap) -> Html<String> {
    let directory = state.directory.current();
    let port = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.rsplit_once(':'))
        .map(|(_, p)| format!(":{p}"))
        .unwrap_or_default();
    let mut portals = String::new();
    for tenant in directory
        .tenants
        .iter()
        .filter(|t| t.kind != TenantKind::Customer && t.deleted_at.is_none())
    {
        for host in directory.hosts_of(&tenant.id) {
            let base = format!("http://{host}{port}");
            portals.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td><a href=\"{base}/graphiql\">{base}/graphiql</a></td>\
                 <td><a href=\"{base}/auth/login?return_to=/graphiql\">sign in</a></td></tr>\n",
                escape(&tenant.name),
                tenant.kind,
                base = escape(&base),
            ));
        }
    }
    let mut users = String::new();
    for tenant in directory.tenants.iter().filter(|t| t.deleted_at.is_none()) {
        let scope = TenantScope::single(tenant.id.clone());
        let Ok(list) = state.store.users_of_tenant(&scope, &tenant.id).await else {
            continue;
        };
        for user in list {
            let roles = state
                .store
                .role_assignments(&scope, &user.id)
                .await
                .unwrap_or_default()
                .iter()
                .map(|r| {
                    if r.regions.is_empty() {
                        r.role.to_string()
                    } else {
                        format!(
                            "{} ({})",
                            r.role,
                            portico_store::model::join_list(&r.regions)
                        )
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            users.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(&user.email),
                escape(&tenant.slug),
                escape(&roles)
            ));
        }
    }
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Portico demo</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1e293b}}
table{{border-collapse:collapse;margin-bottom:2rem}}td,th{{border-bottom:1px solid #e2e8f0;padding:.3rem 1rem .3rem 0;text-align:left}}
code,pre{{background:#f1f5f9;padding:.1rem .3rem}}</style></head>
<body><h1>Portico demo</h1>
<p>Each portal is its own tenant, chosen by the host you call. Open a portal's GraphiQL, or use curl:</p>
<pre>curl -s http://localhost{port}/graphql -H 'Host: northwind.localhost' \
  -H 'content-type: application/json' -d '{{"query":"{{ tenant {{ slug name kind }} }}"}}'</pre>
<h2>Portals</h2>
<table><tr><th>Tenant</th><th>Kind</th><th>GraphiQL</th><th></th></tr>
{portals}</table>
<h2>Demo users</h2>
<p>Customers sign in on their reseller's portal: follow a portal's <em>sign in</em> link and pick a
user, then ask <code>{{ viewer {{ user {{ email }} tenant {{ slug }} roles regions }} }}</code>. For curl,
get a bearer token without a browser:</p>
<pre>curl -s http://localhost{port}/graphql -H 'Host: northwind.localhost' \
  -H "Authorization: Bearer $(portico token --user buyer@alpine.test)" \
  -H 'content-type: application/json' -d '{{"query":"{{ viewer {{ roles regions }} }}"}}'</pre>
<table><tr><th>User</th><th>Tenant</th><th>Roles</th></tr>
{users}</table>
</body></html>"#
    ))
}
