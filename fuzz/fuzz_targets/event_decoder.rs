//! Fuzzes the agent-event decoder and the turn assembler.
//!
//! The input is split into SSE `data` payloads at 0x00 bytes (invalid UTF-8
//! is replaced, as the SSE decoder does). Every payload goes through
//! `events::decode` and `decode_into`; the events go through a
//! `TurnAssembler`. Checked for every input:
//! - no panic, and `decode` agrees with `decode_into` on a reused vector;
//! - a failed `decode_into` leaves the caller's vector untouched;
//! - the assembler's bookkeeping is consistent: every `Display::Final` is
//!   one entry of `messages()`, `final_text()` is their join, deltas shown
//!   for an author are a prefix of the text they accumulate, tool calls are
//!   counted, `finish` is idempotent, and `is_silent` means no text/error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nemo_video::core::events::{self, AgentEvent, Display, TurnAssembler};

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let mut reused: Vec<AgentEvent> = Vec::new();
    let mut all: Vec<AgentEvent> = Vec::new();
    for payload in text.split('\0') {
        let one = events::decode(payload);
        // A sentinel proves a failed decode leaves earlier events alone.
        reused.clear();
        reused.push(AgentEvent::Heartbeat);
        let r = events::decode_into(payload, &mut reused);
        match (&one, &r) {
            (Ok(evs), Ok(())) => {
                assert_eq!(&reused[1..], &evs[..], "decode and decode_into disagree");
                all.extend(evs.iter().cloned());
            }
            (Err(a), Err(b)) => {
                assert_eq!(a.kind(), b.kind());
                assert_eq!(
                    reused,
                    vec![AgentEvent::Heartbeat],
                    "failed decode_into changed out"
                );
                assert!(!a.message().is_empty(), "an error without a message");
            }
            _ => panic!("decode and decode_into disagree on success"),
        }
        if payload.is_empty() {
            assert_eq!(one.as_deref().ok(), Some(&[AgentEvent::Heartbeat][..]));
        }
    }

    let mut asm = TurnAssembler::new();
    let mut shown = Vec::new();
    let mut calls = 0usize;
    for ev in &all {
        if matches!(ev, AgentEvent::ToolCall { .. }) {
            calls += 1;
        }
        asm.push(ev, &mut shown);
    }
    asm.finish(&mut shown);
    let mut again = Vec::new();
    asm.finish(&mut again);
    assert!(again.is_empty(), "finish is not idempotent");

    assert_eq!(asm.tool_calls().len(), calls);
    let finals: Vec<&str> = shown
        .iter()
        .filter_map(|d| match d {
            Display::Final { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        finals,
        asm.messages()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert_eq!(asm.final_text(), asm.messages().join("\n\n"));
    for m in asm.messages() {
        assert!(!m.is_empty(), "an empty message was shown");
    }
    if asm.is_silent() {
        assert!(asm.final_text().is_empty() && asm.error().is_none());
    }
    if asm.error().is_some() {
        assert!(shown.iter().any(|d| matches!(d, Display::Error { .. })));
    }

    // Deltas never show text twice: for each author, the deltas shown since
    // the last final concatenate to a prefix of the partial text received.
    let mut streamed: Vec<(Option<String>, String)> = Vec::new();
    for d in &shown {
        match d {
            Display::Delta { author, text } => {
                assert!(!text.is_empty(), "an empty delta");
                match streamed.iter_mut().find(|(a, _)| a == author) {
                    Some((_, buf)) => buf.push_str(text),
                    None => streamed.push((author.clone(), text.clone())),
                }
            }
            Display::Final {
                author,
                replaced_deltas: true,
                ..
            } => {
                streamed.retain(|(a, _)| a != author);
            }
            _ => {}
        }
    }
    let partial_total: usize = all
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Text {
                text,
                partial: true,
                ..
            } => Some(text.len()),
            _ => None,
        })
        .sum();
    let delta_total: usize = shown
        .iter()
        .filter_map(|d| match d {
            Display::Delta { text, .. } => Some(text.len()),
            _ => None,
        })
        .sum();
    assert!(
        delta_total <= partial_total,
        "deltas showed more text than was received"
    );
});
