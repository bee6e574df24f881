//! The caps on what the emulator remembers (`--max-tokens`, `--max-sessions`,
//! `--replay-*`): past a cap the oldest entries are forgotten, and a forgotten one answers
//! like an expired one (1001, 1002) or, for a turn, like an unknown turn.

mod common;

use common::{start, Emu, SendJson};
use serde_json::{json, Value};

/// Waits until the finished turns queued for replay number `n` (a turn is queued just
/// after its stream ends, so a test may see the stream end first).
async fn replay_turns_settle(emu: &Emu, n: u64) -> Value {
    for _ in 0..200 {
        let live = emu.stats().await["live"].clone();
        if live["replay_turns"] == n {
            return live;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!(
        "replay_turns never reached {n}: {}",
        emu.stats().await["live"]
    );
}

fn turn_of(id: &str) -> &str {
    id.rsplit_once(':').map(|(t, _)| t).unwrap_or(id)
}

#[tokio::test]
async fn the_oldest_token_is_forgotten_past_max_tokens_and_answers_1001() {
    let emu = start(&["--max-tokens", "2"]).await;
    let (t1, user1) = emu.token_for("client-1").await;
    let (t2, _) = emu.token_for("client-2").await;
    assert_eq!(emu.balance(&t1).await["available"], 100);
    let (t3, _) = emu.token_for("client-3").await;

    let live = &emu.stats().await["live"];
    assert_eq!(live["tokens"], 2);
    assert_eq!(live["accounts"], 2, "the account goes with its token");
    let v = emu
        .get(&t1, "/api/credits/balance/simple")
        .send_json()
        .await;
    assert_eq!(v["code"], 1001, "{v}");
    for t in [&t2, &t3] {
        assert_eq!(emu.balance(t).await["available"], 100);
    }
    assert!(emu.stats().await["accounts"].get(&user1).is_none());

    // The protocol's recovery works: the same client id gets a new token (evicting the
    // next oldest in turn).
    let (t1b, user1b) = emu.token_for("client-1").await;
    assert_ne!(t1b, t1);
    assert_ne!(user1b, user1);
    assert_eq!(emu.balance(&t1b).await["available"], 100);
    assert_eq!(emu.stats().await["live"]["tokens"], 2);
}

#[tokio::test]
async fn the_least_recently_used_session_is_forgotten_past_max_sessions_and_answers_1002() {
    let emu = start(&["--max-sessions", "2"]).await;
    let tok = emu.token().await;
    let s1 = emu.session(&tok).await;
    let s2 = emu.session(&tok).await;
    // s1 is used after s2 was created: s2 is now the least recently used.
    assert_eq!(emu.state(&tok, &s1).await["code"], 0);
    let s3 = emu.session(&tok).await;

    assert_eq!(emu.state(&tok, &s2).await["code"], 1002);
    let r = emu.run(&tok, &s2, "echo:hi").await;
    assert_eq!(r.body["code"], 1002, "a chat in the forgotten session");
    for s in [&s1, &s3] {
        assert_eq!(emu.state(&tok, s).await["code"], 0);
    }
    let stats = emu.stats().await;
    assert_eq!(stats["live"]["sessions"], 2);
    assert!(
        stats["sessions"].get(&s2).is_none(),
        "its statistics go too"
    );
    assert!(stats["sessions"].get(&s1).is_some());
}

#[tokio::test]
async fn finished_turns_past_replay_turns_are_unknown_to_a_resume() {
    let emu = start(&["--replay-turns", "1", "--credits", "1000"]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let a = emu.run(&tok, &sid, "echo:first").await;
    let a_id = a.last_id().unwrap();
    replay_turns_settle(&emu, 1).await;
    let b = emu.run(&tok, &sid, "echo:second").await;
    let b_id = b.last_id().unwrap();
    let live = replay_turns_settle(&emu, 1).await;
    assert_eq!(live["turns"], 1, "the first turn was forgotten");

    // The kept turn replays from the start, without running again.
    let again = emu
        .run_with(
            &tok,
            &sid,
            "echo:second",
            &[("Last-Event-ID", format!("{}:0", turn_of(&b_id)).as_str())],
        )
        .await;
    assert_eq!(again.texts(), vec!["second".to_string()]);
    assert_eq!(turn_of(&again.last_id().unwrap()), turn_of(&b_id));

    // The forgotten one is an unknown turn: refused, never run again (that
    // would run and charge it twice); its outcome is in the state.
    let resumed = emu
        .run_with(
            &tok,
            &sid,
            "echo:first",
            &[("Last-Event-ID", a_id.as_str())],
        )
        .await;
    assert_eq!(resumed.status, 409);
    assert!(resumed.texts().is_empty());
    let ss = &emu.stats().await["sessions"][&sid];
    assert_eq!(ss["turns_run"], 2);
    assert_eq!(ss["turns_resumed"], 1);
}

#[tokio::test]
async fn finished_turns_past_replay_bytes_are_dropped_but_running_ones_are_not() {
    // One byte: every finished turn is over the cap as soon as it finishes.
    let emu = start(&["--replay-bytes", "1", "--speed", "100"]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    emu.fault(json!({"endpoint": "run_sse", "kind": "drop_stream", "after_events": 2}))
        .await;
    let text = "generate a clip of a harbour";
    let first = emu.run(&tok, &sid, text).await;
    assert!(first.broken);
    // Still running: it resumes, whatever the byte cap.
    let resumed = emu
        .run_with(
            &tok,
            &sid,
            text,
            &[("Last-Event-ID", first.last_id().unwrap().as_str())],
        )
        .await;
    assert!(!resumed.broken);
    assert!(resumed
        .texts()
        .iter()
        .any(|t| t.starts_with("Your clip is ready")));
    let live = replay_turns_settle(&emu, 0).await;
    assert_eq!(live["turns"], 0);
    assert_eq!(live["replay_bytes"], 0);
    let ss = &emu.stats().await["sessions"][&sid];
    assert_eq!(ss["turns_run"], 1);
    assert_eq!(ss["turns_charged"], 1, "charged once");
}

#[tokio::test]
async fn reset_empties_the_replay_queue() {
    let emu = start(&[]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    emu.run(&tok, &sid, "echo:x").await;
    replay_turns_settle(&emu, 1).await;
    let r = reqwest::Client::new()
        .post(format!("{}/__emulator/reset", emu.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let live = &emu.stats().await["live"];
    assert_eq!(live["replay_turns"], 0);
    assert_eq!(live["replay_bytes"], 0);
    assert_eq!(live["turns"], 0);
}
