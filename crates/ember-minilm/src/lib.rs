//! The categoriser's sentence-model forward pass ([`Encoder`]) and the
//! numeric kernels it is made of ([`kernels`]).
//!
//! A crate of its own so that debug builds compile it optimised (see the
//! workspace's `[profile.dev.package.ember-minilm]`): the element-wise
//! kernels are hot loops that are 5–10× slower unoptimised, while the rest
//! of Ember stays quick to compile.

mod encoder;
pub mod kernels;

pub use encoder::Encoder;
