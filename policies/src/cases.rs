//! Policy test cases: `policies/cases/*.yaml`, each a list of entries naming a demo resource,
//! an action, optionally a field, and who may. An entry with `allow: [...]` expands to one case
//! per demo user (the listed ones allowed, every other one denied); an entry with `user` and
//! `expect` is a single case. `support_window: true` runs the entry as if each user held an open
//! support window on the resource's tenant (only platform staff can open one; the policy says
//! what it allows). This file parses and expands them; resolving names to facts needs
//! the demo data, so the runner is `portico_resolvers::cases::CaseWorld` (`portico policy test`,
//! `portico policy explain`, and `cargo test`).

use serde::Deserialize;

use crate::PolicyError;

/// `kind:name`: `tenant:SLUG`, `customer:SLUG`, `user:EMAIL`, `delegation:CUSTOMER>RESELLER`,
/// `product:RESELLER/SKU`, `portal:SLUG`, `audit:SLUG` (the tenant's audit log), `support:SLUG`
/// (the support windows on the tenant), `settings:SLUG` (the tenant's settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    pub kind: String,
    pub name: String,
}

impl ResourceRef {
    pub fn parse(s: &str) -> Option<ResourceRef> {
        let (kind, name) = s.split_once(':')?;
        Some(ResourceRef {
            kind: kind.trim().to_owned(),
            name: name.trim().to_owned(),
        })
    }
}

impl std::fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind, self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    resource: String,
    action: String,
    #[serde(default)]
    field: Option<String>,
    /// Who may; every other demo user may not.
    #[serde(default)]
    allow: Option<Vec<String>>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    expect: Option<Expect>,
    /// As if the user held an open support window on the resource's tenant.
    #[serde(default)]
    support_window: bool,
    #[serde(default)]
    #[expect(dead_code, reason = "documentation for the reader of the case file")]
    why: Option<String>,
}

/// One expanded case.
#[derive(Debug, Clone)]
pub struct Case {
    pub user: String,
    pub action: String,
    pub resource: ResourceRef,
    pub field: Option<String>,
    pub expect: Expect,
    /// As if the user held an open support window on the resource's tenant.
    pub support_window: bool,
    /// `file#entry` (the entry's position, from 1) for messages.
    pub origin: String,
}

/// A parsed case file.
#[derive(Debug, Clone)]
pub struct CaseFile {
    pub name: String,
    entries: Vec<Entry>,
}

impl CaseFile {
    pub fn parse(name: &str, text: &str) -> Result<CaseFile, PolicyError> {
        let entries: Vec<Entry> = serde_yaml::from_str(text).map_err(|e| PolicyError::Cases {
            file: name.to_owned(),
            message: e.to_string(),
        })?;
        Ok(CaseFile {
            name: name.to_owned(),
            entries,
        })
    }

    /// Every `*.yaml` of a directory, in name order.
    pub fn load_dir(dir: &std::path::Path) -> Result<Vec<CaseFile>, PolicyError> {
        let failed = |message: String| PolicyError::Cases {
            file: dir.display().to_string(),
            message,
        };
        crate::files_in(dir, &["yaml", "yml"])
            .map_err(|e| failed(e.to_string()))?
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).map_err(|e| failed(e.to_string()))?;
                CaseFile::parse(&p.file_name().unwrap_or_default().to_string_lossy(), &text)
            })
            .collect()
    }

    /// The cases, with `allow` lists expanded over `users`.
    pub fn expand(&self, users: &[String]) -> Result<Vec<Case>, PolicyError> {
        let mut out = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            let origin = format!("{}#{}", self.name, i + 1);
            let bad = |message: String| PolicyError::Cases {
                file: origin.clone(),
                message,
            };
            let resource = ResourceRef::parse(&e.resource)
                .ok_or_else(|| bad(format!("resource {:?} is not KIND:NAME", e.resource)))?;
            let case = |user: &str, expect: Expect| Case {
                user: user.to_owned(),
                action: e.action.clone(),
                resource: resource.clone(),
                field: e.field.clone(),
                expect,
                support_window: e.support_window,
                origin: origin.clone(),
            };
            match (&e.allow, &e.user, e.expect) {
                (Some(allowed), None, None) => {
                    if let Some(unknown) = allowed.iter().find(|u| !users.contains(u)) {
                        return Err(bad(format!("allow names {unknown:?}, not a demo user")));
                    }
                    for user in users {
                        let expect = if allowed.contains(user) {
                            Expect::Allow
                        } else {
                            Expect::Deny
                        };
                        out.push(case(user, expect));
                    }
                }
                (None, Some(user), Some(expect)) => out.push(case(user, expect)),
                _ => {
                    return Err(bad(
                        "give either `allow: [users]` or both `user` and `expect`".into(),
                    ));
                }
            }
        }
        Ok(out)
    }
}
