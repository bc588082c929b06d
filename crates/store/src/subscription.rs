//! Catch-up subscriptions that turn live: read the global log page by page
//! from a position, and when caught up, wait for the store's wake-up signal
//! (or a poll interval, for writers the signal can't see) and read again.
//!
//! One rule makes every page, before and after the switch to live: the
//! events after the last one handed out, read from the log or taken from
//! those the store's writer committed last and keeps in memory (which hold
//! the log's events at those positions). So there is no gap or duplicate
//! at the switch. Pages are read only when the consumer asks for the next
//! event: a slow consumer slows the reads, nothing piles up (backpressure).

use crate::{Error, EventEnvelope, EventStore, RecordedEvent};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::watch;

/// Events read per page.
pub const DEFAULT_PAGE_SIZE: usize = 1_000;
/// How long a caught-up subscription waits for a wake-up before it reads
/// again anyway (writers in other processes may not wake it).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// A reader of the global log that follows it live.
#[derive(Debug)]
pub struct Subscription<S> {
    store: S,
    after: u64,
    buffer: VecDeque<RecordedEvent>,
    head: watch::Receiver<u64>,
    page_size: usize,
    poll_interval: Duration,
}

impl<S: EventStore> Subscription<S> {
    /// Follows `store` from the event after `after_position`.
    pub fn new(store: S, after_position: u64) -> Self {
        let head = store.head_watch();
        Subscription {
            store,
            after: after_position,
            buffer: VecDeque::new(),
            head,
            page_size: DEFAULT_PAGE_SIZE,
            poll_interval: DEFAULT_POLL_INTERVAL,
        }
    }

    /// Reads pages of `page_size` events (at least 1).
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Re-reads at least this often when caught up.
    pub fn with_poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }

    /// The position of the last event handed out.
    pub fn position(&self) -> u64 {
        self.after
    }

    /// The next event, waiting for one to be committed if caught up. An
    /// event that does not decode is an error and stays next.
    pub async fn next(&mut self) -> Result<EventEnvelope, Error> {
        self.fill(true).await?;
        self.pop_decoded()
            .map(|e| e.expect("a filled buffer has an event"))
    }

    /// Like [`next`](Self::next), but `None` once caught up instead of
    /// waiting: caught up as far as the store's head signal knows (events
    /// of writers it can't see come with the next waiting read).
    pub async fn try_next(&mut self) -> Result<Option<EventEnvelope>, Error> {
        self.fill(false).await?;
        self.pop_decoded()
    }

    /// The next event as stored, waiting for one to be committed if caught
    /// up.
    pub async fn next_recorded(&mut self) -> Result<RecordedEvent, Error> {
        self.fill(true).await?;
        Ok(self.pop().expect("a filled buffer has an event"))
    }

    /// Like [`next_recorded`](Self::next_recorded), but `None` once caught
    /// up (as [`try_next`](Self::try_next) says) instead of waiting.
    pub async fn try_next_recorded(&mut self) -> Result<Option<RecordedEvent>, Error> {
        self.fill(false).await?;
        Ok(self.pop())
    }

    /// The buffer's first event, handed out.
    fn pop(&mut self) -> Option<RecordedEvent> {
        self.buffer.pop_front().inspect(|e| self.after = e.position)
    }

    /// Reads a page if the buffer is empty; with `wait`, until one arrives.
    /// The page comes from the events the store keeps in memory when they
    /// hold the next position, else from the log. A reader caught up as far
    /// as the store's signal knows does not read an empty page: `try_`
    /// reads answer `None`, waiting reads wait for the signal (or the poll
    /// interval, for writers it can't see) first.
    async fn fill(&mut self, wait: bool) -> Result<(), Error> {
        let mut read_now = *self.head.borrow() > self.after;
        while self.buffer.is_empty() {
            if !read_now {
                if !wait {
                    break;
                }
                self.wait_for_more(self.after).await;
            }
            read_now = false;
            if let Some(page) = self.store.read_recent(self.after, self.page_size) {
                self.buffer.extend(page);
                continue;
            }
            let page = self
                .store
                .read_all_recorded(self.after, self.page_size)
                .await?;
            self.buffer.extend(page);
        }
        Ok(())
    }

    fn pop_decoded(&mut self) -> Result<Option<EventEnvelope>, Error> {
        let Some(front) = self.buffer.front() else {
            return Ok(None);
        };
        let parts = front.decode_parts()?;
        Ok(self.pop().map(|event| event.with_parts(parts)))
    }

    async fn wait_for_more(&mut self, last: u64) {
        let wait = self.head.wait_for(|h| *h > last);
        // Only whether the signal is gone matters; the guard it returns must
        // not live across the sleep below.
        let signal_gone = matches!(
            tokio::time::timeout(self.poll_interval, wait).await,
            Ok(Err(_))
        );
        if signal_gone {
            // The store's signal is gone (its writer stopped): poll.
            tokio::time::sleep(self.poll_interval).await;
        }
    }
}
