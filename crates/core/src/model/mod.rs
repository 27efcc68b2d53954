//! Values that are validated once, when they are parsed, and trusted afterwards.

pub mod slug;

pub use slug::{Slug, SlugError, slugify};
