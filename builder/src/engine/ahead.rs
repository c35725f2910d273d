//! The result's blobs, made while the build goes on. Layers of the stages
//! that become the images are certain to need a blob (see [`super::lazy`]);
//! rather than compress them all at the end, each is handed to one
//! background worker as soon as its step is done, so the compression runs
//! beside the next steps (often a download, or one emulated process that
//! leaves a core idle). Writing the images later finds the blob made, or
//! waits for the one being made (one lock per layer and form). A failure
//! here is not reported: writing the images makes the blob again and says
//! what went wrong.

use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, Sender, channel};

use super::Ctx;
use super::state::LayerRec;

/// The queue of layers whose blobs to make.
#[derive(Debug)]
pub(crate) struct Ahead {
    tx: Mutex<Option<Sender<LayerRec>>>,
}

impl Ahead {
    /// A queue and the receiving end for [`work`].
    pub fn new() -> (Ahead, Receiver<LayerRec>) {
        let (tx, rx) = channel();
        (
            Ahead {
                tx: Mutex::new(Some(tx)),
            },
            rx,
        )
    }

    /// Queues `l` (a layer of a result image with no blob yet).
    pub fn push(&self, l: &LayerRec) {
        if let Ok(g) = self.tx.lock() {
            if let Some(tx) = g.as_ref() {
                let _ = tx.send(l.clone());
            }
        }
    }

    /// No more layers: the worker ends once the queue is empty.
    pub fn close(&self) {
        if let Ok(mut g) = self.tx.lock() {
            g.take();
        }
    }
}

/// Closes the queue when dropped, and stops the worker's pending work if
/// that happens while unwinding from a panic.
pub(crate) struct Closer<'a, 'c>(pub &'a Ctx<'c>);

impl Drop for Closer<'_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.abort.store(true, Ordering::SeqCst);
        }
        self.0.ahead.close();
    }
}

/// The worker: makes each queued layer's blob as the outputs want it,
/// until the queue is closed; skips the rest once the build failed.
pub(crate) fn work(ctx: &Ctx, rx: Receiver<LayerRec>) {
    for l in rx {
        if ctx.abort.load(Ordering::SeqCst) {
            continue;
        }
        let _ = ctx
            .snapshots
            .blob_for_output(&ctx.store.blobs, &l, true, &ctx.opts.layers);
    }
}

/// Queues the layers of instance `i`'s state `st` from index `from` on
/// (all of them as the instance starts from its base, the new top after a
/// step) when `i` is a result (a final instance): those the build made that
/// have no blob yet.
pub(crate) fn queue_new(ctx: &Ctx, i: usize, from: usize, st: &super::state::State) {
    if !ctx.plan.finals.contains(&i) {
        return;
    }
    let start = from.max(st.base_layers).min(st.layers.len());
    for l in st.layers[start..].iter().filter(|l| l.digest.is_none()) {
        ctx.ahead.push(l);
    }
}
