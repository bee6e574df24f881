//! The wasm shell is layered: each module of `src/wasm` uses only modules
//! of the layers before it, so the shell reads bottom-up and has no import
//! cycle. The order is the one `src/wasm/mod.rs` documents; a `use
//! super::later` fails here, natively, in milliseconds.
#![cfg(not(target_arch = "wasm32"))]

/// Bottom to top. Modules on one line may not use each other.
const LAYERS: &[&[&str]] = &[
    &["glue"],
    &["convert"],
    &["timeline", "signal"],
    &["http"],
    &["client"],
    &["session"],
    &["turn", "export", "upload"],
    &["actions", "estimate"],
    &["sse_decoder", "agent_decoder", "types"],
];

const SOURCES: &[(&str, &str)] = &[
    ("glue", include_str!("../src/wasm/glue.rs")),
    ("convert", include_str!("../src/wasm/convert.rs")),
    ("timeline", include_str!("../src/wasm/timeline.rs")),
    ("signal", include_str!("../src/wasm/signal.rs")),
    ("http", include_str!("../src/wasm/http.rs")),
    ("client", include_str!("../src/wasm/client.rs")),
    ("session", include_str!("../src/wasm/session.rs")),
    ("turn", include_str!("../src/wasm/turn.rs")),
    ("export", include_str!("../src/wasm/export.rs")),
    ("upload", include_str!("../src/wasm/upload.rs")),
    ("actions", include_str!("../src/wasm/actions.rs")),
    ("estimate", include_str!("../src/wasm/estimate.rs")),
    ("sse_decoder", include_str!("../src/wasm/sse_decoder.rs")),
    (
        "agent_decoder",
        include_str!("../src/wasm/agent_decoder.rs"),
    ),
    ("types", include_str!("../src/wasm/types.rs")),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The sibling modules a source names through `super::`.
fn uses(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in source.match_indices("super::") {
        let rest = &source[i + "super::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(
                group
                    .split(',')
                    .map(|m| m.trim().split("::").next().unwrap_or("").to_string()),
            );
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.push(rest[..end].to_string());
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

#[test]
fn every_shell_module_is_in_a_layer() {
    let listed: Vec<&str> = SOURCES.iter().map(|(m, _)| *m).collect();
    let declared = include_str!("../src/wasm/mod.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect::<Vec<_>>();
    for m in &declared {
        assert!(
            listed.contains(m),
            "src/wasm/{m}.rs is in no layer of tests/shell_layers.rs"
        );
        assert!(layer_of(m).is_some(), "{m} is in no layer");
    }
}

#[test]
fn no_shell_module_uses_a_later_or_sibling_one() {
    let mut wrong = Vec::new();
    for (module, source) in SOURCES {
        let own = layer_of(module).expect("listed");
        for used in uses(source) {
            if let Some(l) = layer_of(&used) {
                if l >= own {
                    wrong.push(format!("{module} uses {used}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "the shell's layers are broken: {wrong:?}");
}
