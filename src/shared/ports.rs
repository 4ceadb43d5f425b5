//! What the host says about the sidechain input: connected, not connected, or nothing.
//!
//! CLAP hosts say it through the audio-ports-activation extension, VST3 hosts through bus
//! activation; the plugin's entry hears it, and the audio thread (which then ignores a port
//! the host calls inactive, and listens to a connected one even while it is silent) and the
//! editor (which says "no sidechain connected" from the host's word) read it. Until the host
//! says anything, a sidechain counts as connected once it has carried sound.
//!
//! The entry creates the word before the framework creates the plugin and hands it over
//! through [`offer`] / [`adopt`] (same thread, same call), so the plugin and its entry share
//! one word per instance without a global table.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

const UNKNOWN: u8 = 0;
const CONNECTED: u8 = 1;
const DISCONNECTED: u8 = 2;

/// The host's word about one port. Lock-free; any thread.
#[derive(Debug, Default)]
pub struct PortWord(AtomicU8);

impl PortWord {
    /// The host connected (`true`) or disconnected (`false`) the port.
    pub fn set(&self, connected: bool) {
        let v = if connected { CONNECTED } else { DISCONNECTED };
        self.0.store(v, Ordering::Relaxed);
    }

    /// What the host said last (`None`: nothing).
    pub fn get(&self) -> Option<bool> {
        match self.0.load(Ordering::Relaxed) {
            CONNECTED => Some(true),
            DISCONNECTED => Some(false),
            _ => None,
        }
    }

    /// Back to "the host said nothing".
    pub fn forget(&self) {
        self.0.store(UNKNOWN, Ordering::Relaxed);
    }
}

thread_local! {
    static OFFERED: RefCell<Option<Arc<PortWord>>> = const { RefCell::new(None) };
}

/// The entry: the word the plugin about to be created on this thread should use (`None`
/// withdraws an offer nobody took).
pub fn offer(word: Option<Arc<PortWord>>) {
    OFFERED.with(|o| *o.borrow_mut() = word);
}

/// The plugin's constructor: the word its entry offered, or a new one (an entry that hears
/// nothing, a test).
pub fn adopt() -> Arc<PortWord> {
    OFFERED.with(|o| o.borrow_mut().take()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offered_word_goes_to_one_plugin_only() {
        let word = Arc::new(PortWord::default());
        offer(Some(word.clone()));
        let first = adopt();
        let second = adopt();
        assert!(Arc::ptr_eq(&first, &word));
        assert!(!Arc::ptr_eq(&second, &word));
        assert_eq!(first.get(), None);
        word.set(false);
        assert_eq!(first.get(), Some(false));
        word.set(true);
        assert_eq!(first.get(), Some(true));
        word.forget();
        assert_eq!(first.get(), None);
    }
}
