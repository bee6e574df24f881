//! The public types are declared once, in the core, and the TypeScript
//! declarations (`src/wasm/types.rs`, emitted into the package's `.d.ts`) and
//! the JS error classes (`src/wasm/glue.js`) are checked against them: a
//! kind, an action, an event type or a result kind added on one side only
//! fails here, natively, in milliseconds.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use nemo_video::core::error::{ErrorKind, Recovery};
use nemo_video::core::intent::Intent;
use nemo_video::core::turn::TURN_EVENT_TYPES;

const TYPES_TS: &str = include_str!("../src/wasm/types.rs");
const GLUE_JS: &str = include_str!("../src/wasm/glue.js");

/// The text of `export <decl> <name>` up to the next blank line.
fn declaration(name: &str) -> &'static str {
    let start = ["export type ", "export interface "]
        .iter()
        .find_map(|kw| TYPES_TS.find(&format!("{kw}{name} ")))
        .unwrap_or_else(|| panic!("types.rs declares no {name}"));
    let rest = &TYPES_TS[start..];
    &rest[..rest.find("\n\n").unwrap_or(rest.len())]
}

/// Every `"literal"` after `field` (e.g. `kind: `, `type: `) in `text`.
fn literals_after(text: &str, field: &str) -> BTreeSet<String> {
    text.match_indices(field)
        .filter_map(|(i, _)| {
            let rest = text[i + field.len()..].trim_start().strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

/// Every `"literal"` in `text`.
fn all_literals(text: &str) -> BTreeSet<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn set<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    items.into_iter().map(str::to_string).collect()
}

#[test]
fn error_kinds_in_the_dts_are_the_cores() {
    let nemo_error = declaration("NemoError");
    let kinds = nemo_error
        .split("kind:")
        .nth(1)
        .and_then(|k| k.split(';').next())
        .expect("NemoError.kind");
    assert_eq!(
        all_literals(kinds),
        set(ErrorKind::ALL.iter().map(|k| k.as_str()))
    );
}

#[test]
fn error_classes_in_glue_js_are_the_cores_kinds() {
    let table = GLUE_JS
        .split("const KINDS = {")
        .nth(1)
        .and_then(|t| t.split("};").next())
        .expect("glue.js KINDS");
    let kinds: BTreeSet<String> = table
        .lines()
        .filter_map(|l| l.trim().split(':').next())
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect();
    assert_eq!(kinds, set(ErrorKind::ALL.iter().map(|k| k.as_str())));
}

#[test]
fn recovery_actions_are_a_closed_union_of_the_cores() {
    assert_eq!(
        all_literals(declaration("RecoveryAction")),
        set(Recovery::ACTIONS)
    );
    assert!(declaration("Recovery").contains("action: RecoveryAction;"));
}

#[test]
fn turn_event_types_in_the_dts_are_the_cores() {
    assert_eq!(
        literals_after(declaration("TurnEvent"), "type:"),
        set(TURN_EVENT_TYPES)
    );
}

#[test]
fn handle_result_kinds_in_the_dts_are_the_routes() {
    assert_eq!(
        literals_after(declaration("HandleResult"), "kind:"),
        set(Intent::ACTION_NAMES)
    );
}

#[test]
fn the_cores_lists_name_every_variant() {
    // Each list above is the image of an exhaustive `match`; a variant added
    // without its list entry is caught here.
    use nemo_video::core::intent::{route, ChatIntent};
    let intents = [
        route("export", false),
        route("credits", false),
        route("status", false),
        route("upload", false),
        route("", false),
        Intent::Chat(ChatIntent::Generate),
    ];
    assert_eq!(
        set(intents.iter().map(Intent::action_name)),
        set(Intent::ACTION_NAMES)
    );
    let recoveries = [
        Recovery::Reauthenticate,
        Recovery::NewSession,
        Recovery::Register { url: String::new() },
        Recovery::TopUp,
        Recovery::ChooseSupportedFile { accepted: &[] },
        Recovery::CompressOrTrim { limit_bytes: 1 },
        Recovery::UpgradePlan,
        Recovery::RetryAfter { ms: 1 },
        Recovery::CheckConnection,
        Recovery::Retry,
        Recovery::FixInput,
        Recovery::ReportBug,
        Recovery::CheckAccess,
        Recovery::None,
    ];
    assert_eq!(
        set(recoveries.iter().map(Recovery::as_str)),
        set(Recovery::ACTIONS)
    );
    // What crosses back from JS by name alone comes back the same.
    for r in &recoveries {
        if let Some(back) = Recovery::without_data(r.as_str()) {
            assert_eq!(&back, r);
        }
    }
}
