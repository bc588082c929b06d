//! Capturing a child's output with a size cap.

use crate::executor::Progress;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Reads `stream` to its end, keeping at most `cap` bytes (the tail) and
/// offering each line to `progress`.
pub(super) async fn capture(
    stream: impl AsyncRead + Unpin,
    cap: usize,
    mut progress: Option<Progress>,
) -> Vec<u8> {
    let mut reader = BufReader::new(stream);
    let mut kept = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if let Some(p) = progress.as_mut() {
                    p.line(&String::from_utf8_lossy(&line));
                }
                kept.extend_from_slice(&line);
                if kept.len() > cap {
                    let excess = kept.len() - cap;
                    kept.drain(..excess);
                }
            }
        }
    }
    kept
}

/// The last `max` bytes of `bytes` as text, trimmed.
pub(super) fn tail(bytes: &[u8], max: usize) -> String {
    let start = bytes.len().saturating_sub(max);
    String::from_utf8_lossy(&bytes[start..]).trim().to_owned()
}
