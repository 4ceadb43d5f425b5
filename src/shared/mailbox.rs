//! [`Mailbox`]: a single-slot, lock-free hand-over of a boxed value between threads (an
//! `AtomicPtr` swapped in and out). A newer value replaces an unread one, which goes back to
//! the sender to be dropped there, never on the receiving (audio) thread.

use std::sync::atomic::{AtomicPtr, Ordering};

/// A single-slot lock-free mailbox for boxed values.
pub struct Mailbox<T> {
    slot: AtomicPtr<T>,
}

impl<T> Default for Mailbox<T> {
    fn default() -> Self {
        Self {
            slot: AtomicPtr::new(std::ptr::null_mut()),
        }
    }
}

impl<T> Mailbox<T> {
    /// Puts `value` in the slot and returns the value it replaces, if the receiver had not
    /// taken it yet. Never blocks.
    pub fn put(&self, value: Box<T>) -> Option<Box<T>> {
        let old = self.slot.swap(Box::into_raw(value), Ordering::AcqRel);
        // SAFETY: every non-null pointer in the slot came from `Box::into_raw` and is owned
        // by the slot; the swap transfers that ownership to us exactly once.
        (!old.is_null()).then(|| unsafe { Box::from_raw(old) })
    }

    /// Takes the value, if any. Never blocks or allocates.
    pub fn take(&self) -> Option<Box<T>> {
        let p = self.slot.swap(std::ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: as in `put`.
        (!p.is_null()).then(|| unsafe { Box::from_raw(p) })
    }

    /// Whether the slot is empty.
    pub fn is_empty(&self) -> bool {
        self.slot.load(Ordering::Acquire).is_null()
    }
}

impl<T> Drop for Mailbox<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

// SAFETY: the mailbox only moves owned `Box<T>` values between threads.
unsafe impl<T: Send> Send for Mailbox<T> {}
// SAFETY: all access goes through atomic swaps; each value is owned by exactly one side.
unsafe impl<T: Send> Sync for Mailbox<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_hands_over_and_returns_unread_values() {
        let mb = Mailbox::default();
        assert!(mb.put(Box::new(1)).is_none());
        assert_eq!(mb.put(Box::new(2)).map(|b| *b), Some(1));
        let t = std::thread::spawn({
            let mb = std::sync::Arc::new(mb);
            move || mb.take().map(|b| *b)
        });
        assert_eq!(t.join().unwrap(), Some(2));
    }
}
