//! On-device categorisation. For now, the queue that sync feeds with newly
//! stored messages, and its consumer; the BERT model and the classifier that
//! will drain it arrive with the categorisation work.

mod queue;

pub use queue::{CategoriseQueue, QUEUE_CAPACITY};
