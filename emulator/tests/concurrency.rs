//! 300 concurrent SSE turns on loopback, all completing, each charged once.

mod common;

use common::start;
use futures::future::join_all;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hundred_concurrent_turns_complete() {
    let emu = start(&["--credits", "100000", "--speed", "500"]).await;
    let tok = emu.token().await;
    let sessions = join_all((0..300).map(|_| emu.session(&tok))).await;
    let runs = sessions.iter().enumerate().map(|(i, sid)| {
        let emu = &emu;
        let tok = tok.clone();
        async move {
            let text = format!("generate a clip of scene number {i}");
            let s = emu.run(&tok, sid, &text).await;
            (s, text)
        }
    });
    let results = join_all(runs).await;
    for (s, text) in &results {
        assert_eq!(s.status, 200, "{text}");
        assert!(!s.broken, "{text}");
        let texts = s.texts();
        assert_eq!(texts.len(), 2, "{text}: {texts:?}");
        assert!(texts[0].starts_with("Your clip is ready"));
    }
    let stats = emu.stats().await;
    assert_eq!(stats["global"]["turns_run"], 300);
    assert_eq!(stats["global"]["turns_charged"], 300);
    assert_eq!(stats["global"]["credits_charged"], 300 * 100);
    assert_eq!(stats["global"]["sse_streams_open"], 0);
    assert_eq!(emu.balance(&tok).await["available"], 100000 - 300 * 100);
}
