//! A 200 MB upload streamed from a generated file, with the emulator (in-process) keeping
//! its memory flat; and a file one byte over 200 MiB refused with 4002. Alone in its test
//! binary so other tests do not disturb the RSS reading.

mod common;
use common::SendJson;

use std::io::{Seek, SeekFrom, Write};

use common::start;
use serde_json::Value;

fn rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A sparse WAV of `total` bytes: a valid header, then silence.
fn sparse_wav(path: &std::path::Path, total: u64) {
    let data = (total - 44) as u32;
    let mut f = std::fs::File::create(path).unwrap();
    let mut h = Vec::new();
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(data + 36).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes()); // PCM
    h.extend_from_slice(&2u16.to_le_bytes()); // stereo
    h.extend_from_slice(&44_100u32.to_le_bytes());
    h.extend_from_slice(&(44_100u32 * 4).to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&16u16.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data.to_le_bytes());
    f.write_all(&h).unwrap();
    f.set_len(total).unwrap();
    f.seek(SeekFrom::End(0)).unwrap();
}

async fn stream_upload(
    emu: &common::Emu,
    tok: &str,
    sid: &str,
    path: &std::path::Path,
    name: &str,
) -> Value {
    let file = tokio::fs::File::open(path).await.unwrap();
    let len = file.metadata().await.unwrap().len();
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
        file,
        256 * 1024,
    ));
    let part = reqwest::multipart::Part::stream_with_length(body, len).file_name(name.to_string());
    let form = reqwest::multipart::Form::new().part("files", part);
    emu.post(tok, &format!("/api/upload-video/nemo_agent/me/{sid}"))
        .multipart(form)
        .send_json()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_megabytes_stream_to_disk_with_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start(&[]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;

    // Warm up allocators and connection pools with a small upload.
    let small = dir.path().join("small.wav");
    sparse_wav(&small, 100_000);
    assert_eq!(
        stream_upload(&emu, &tok, &sid, &small, "small.wav").await["code"],
        0
    );

    let big = dir.path().join("big.wav");
    let size: u64 = 200 * 1000 * 1000;
    sparse_wav(&big, size);
    let before = rss_kb();
    let v = stream_upload(&emu, &tok, &sid, &big, "big.wav").await;
    let after = rss_kb();
    assert_eq!(v["code"], 0, "{v}");
    let f = &v["data"]["files"][0];
    assert_eq!(f["size"], size);
    assert_eq!(f["file_type"], "audio");
    let expect_s = (size - 44) as f64 / (44_100.0 * 4.0);
    assert!(
        (f["duration"].as_f64().unwrap() - expect_s).abs() < 1.0,
        "{f}"
    );
    let growth_mb = (after as i64 - before as i64) / 1024;
    eprintln!("RSS before {before} kB, after {after} kB, growth {growth_mb} MB");
    assert!(growth_mb < 64, "RSS grew by {growth_mb} MB");

    // One byte over 200 MiB: 4002, and nothing kept.
    let over = dir.path().join("over.wav");
    sparse_wav(&over, 200 * 1024 * 1024 + 1);
    let before = rss_kb();
    let v = stream_upload(&emu, &tok, &sid, &over, "over.wav").await;
    assert_eq!(v["code"], 4002, "{v}");
    let growth_mb = (rss_kb() as i64 - before as i64) / 1024;
    assert!(growth_mb < 64, "RSS grew by {growth_mb} MB");
    let st = emu.state(&tok, &sid).await;
    assert_eq!(
        st["data"]["state"]["video_infos"].as_array().unwrap().len(),
        2
    );
}
